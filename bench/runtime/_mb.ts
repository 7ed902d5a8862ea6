import { encode } from '@hnet/format';
import { loadModel } from '@hnet/runtime-wasm';
import { MODELS } from './models.ts';
const which = process.argv.slice(2);
function cpuMs(f: () => unknown, n: number): number {
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) f();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / n;
}
for (const [name, make] of Object.entries(MODELS)) {
  if (which.length && !which.includes(name)) continue;
  const bytes = encode(make());
  const ms = await Promise.all((['materialized', 'streaming'] as const).map((mode) => loadModel(bytes, { mode })));
  for (const batch of [1, 64]) {
    const runs = ms.map((m) => {
      const shape = m.info.inputs[0].shape;
      m.run({ x: { shape: [batch, ...shape.slice(1)], data: new Float32Array(batch * shape.slice(1).reduce((a, b) => a * b)).fill(0.5) } });
      const { exports: x, handle } = m.abi;
      return () => x.hnet_run(handle, batch);
    });
    const n = batch === 1 ? 300 : 30;
    const best = [Infinity, Infinity];
    for (let round = 0; round < 5; round++) for (let k = 0; k < 2; k++) best[k] = Math.min(best[k], cpuMs(runs[k], n));
    console.log(name, 'batch', batch, 'mat', best[0].toFixed(4), 'str', best[1].toFixed(4), 'ratio', (best[1] / best[0]).toFixed(2));
  }
}
