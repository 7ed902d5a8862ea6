// The one error type of the trainer: a code for programs, a field or file in the message for people.

export type TrainErrorCode =
  | 'backend' // no usable TensorFlow.js backend
  | 'data' // a data file is malformed or does not fit the model
  | 'model' // the model cannot be trained (unsupported op or shape)
  | 'options'; // an option is out of range

export class TrainError extends Error {
  override readonly name = 'TrainError';
  constructor(
    readonly code: TrainErrorCode,
    message: string,
  ) {
    super(message);
  }
}
