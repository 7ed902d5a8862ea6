import { encode } from '@hnet/format';
import { loadModel } from '@hnet/runtime-wasm';
import { MODELS } from './models.ts';
const [name, mode, batchS] = process.argv.slice(2);
const m = await loadModel(encode(MODELS[name]()), { mode: mode as 'streaming', wasm: process.env.WASM ? new URL(process.env.WASM, 'file:///') : undefined });
const batch = Number(batchS);
const shape = m.info.inputs[0].shape;
m.run({ x: { shape: [batch, ...shape.slice(1)], data: new Float32Array(batch * shape.slice(1).reduce((a, b) => a * b)).fill(0.5) } });
const { exports: x, handle } = m.abi;
const t0 = performance.now(); let n = 0;
while (performance.now() - t0 < 3000) { x.hnet_run(handle, batch); n++; }
console.log((performance.now() - t0) / n, 'ms');
