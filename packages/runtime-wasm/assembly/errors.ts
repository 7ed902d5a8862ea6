// Error state of the runtime. WebAssembly has no exceptions that a host
// without JavaScript could catch, so every failure is reported as a code plus
// a message, readable through hnet_last_error_* (docs/RUNTIME.md). The first
// failure of a call wins: later ones are usually consequences of it.

export const E_OK: i32 = 0;
export const E_ARGUMENT: i32 = 1;     // bad argument to an ABI call (handle, index, batch, pointer)
export const E_TRUNCATED: i32 = 2;    // a read would leave the file: truncated or corrupt offsets
export const E_IDENTIFIER: i32 = 3;   // not an .hnet file (bytes 4..8 are not "HNET")
export const E_VERSION: i32 = 4;      // format_version / min_reader_version this reader cannot read
export const E_INVALID: i32 = 5;      // a field has a value the format does not allow
export const E_SHAPE: i32 = 6;        // shapes do not fit together (inference failed)
export const E_BUDGET: i32 = 7;       // the model does not fit in the memory budget
export const E_MEMORY: i32 = 8;       // the memory needed is beyond what the runtime supports

let errorCode: i32 = E_OK;
let errorMessage: string = "";
const NO_BYTES = new ArrayBuffer(0);
let errorUtf8: ArrayBuffer = NO_BYTES; // the message as UTF-8, for hnet_last_error_ptr/len

/** Records a failure unless one is already recorded for this call. Returns false, for `return fail(...)`. */
export function fail(code: i32, message: string): bool {
  if (errorCode == E_OK) {
    errorCode = code;
    errorMessage = message;
    errorUtf8 = String.UTF8.encode(message);
  }
  return false;
}

export function failed(): bool {
  return errorCode != E_OK;
}

/** Clears the error at the start of every ABI call. */
export function clearError(): void {
  if (errorCode == E_OK) return; // nothing to clear: no allocation on the happy path
  errorCode = E_OK;
  errorMessage = "";
  errorUtf8 = NO_BYTES;
}

export function lastErrorCode(): i32 {
  return errorCode;
}

export function lastErrorMessage(): string {
  return errorMessage;
}

/** The message as UTF-8 bytes, kept alive until the next ABI call. */
export function lastErrorUtf8(): ArrayBuffer {
  return errorUtf8;
}
