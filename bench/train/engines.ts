// hnet's two training engines and PyTorch side by side, in one run (issue 9,
// part 4): seconds per 60,000 training examples (SGD, momentum 0.9, Nesterov,
// lr 0.01, batch 100, cross-entropy) on Fashion-MNIST for 784-1000-10 dense,
// HashNet 1/8 and 1/64, and a LeNet-5-style CNN with every weight hashed to
// 1/8, at 1 and 2 threads. hnet is timed through the TrainingEngine that
// train() uses, grouping batches into runs as train() does (after warm-up
// runs that compile the graphs); PyTorch by
// bench/train/torch_reference.py (needs libopenblas0-pthread, and beyond one
// thread libopenblas0-openmp: see README.md), in each of the set-ups of
// torchSetups(), the fastest kept and named in its row. tfjs-wasm runs one
// thread in Node: its 1-thread time stands in the other rows, marked †.
// The three are interleaved per config and round (torch, ort, … tfjs, torch, …)
// so that load from other processes hits them alike; medians over rounds.
//
//   node --import tsx bench/train/engines.ts [--examples 6000] [--rounds 3] [--tfjs-examples 1000] [--tfjs-cnn-examples 200] [--threads 1,2]
//     [--configs dense,hash8,hash64,lenet8] [--tfjs no]   (a subset, for quick A/B checks; the table needs all)

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { hashedWeight, plainWeight, type Conv2DOp, type DenseOp, type MaxPoolOp, type Model, type Weight } from '@hnet/format';
import { createEngine, loadIdxDir, normalize, selectBackend, sliceDataset, type Dataset, type EngineName } from '@hnet/train';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const examples = Number(args.get('examples') ?? 6000);
const tfjsExamples = Number(args.get('tfjs-examples') ?? Math.min(examples, 1000));
const tfjsCnnExamples = Number(args.get('tfjs-cnn-examples') ?? Math.min(examples, 200));
const threadCounts = (args.get('threads') ?? '1,2').split(',').map(Number);
const rounds = Number(args.get('rounds') ?? 3);
const only = args.get('configs')?.split(',') ?? null;
const withTfjs = args.get('tfjs') !== 'no';
const BATCH = 100;

let seed = 10;
function weight(shape: number[], ratio: number): Weight {
  const n = shape.reduce((a, b) => a * b, 1);
  const zeros = new Float32Array(n); // the values are drawn by init 'scratch'
  return ratio >= 1 ? plainWeight(zeros, shape) : hashedWeight(zeros, shape, { algorithm: 'xxh32', bucketSeed: seed++, signSeed: seed++ }, Math.round(n * ratio));
}
const bias = (n: number) => plainWeight(new Float32Array(n), [n]);

function mlp(ratio: number): Model {
  return {
    inputs: [{ name: 'x', shape: [-1, 784] }],
    outputs: [{ name: 'y', shape: [-1, 10] }],
    nodes: [
      { name: 'fc1', op: { type: 'Dense', weight: weight([1000, 784], ratio), bias: bias(1000) }, inputs: ['x'], outputs: ['h'] },
      { name: 'relu', op: { type: 'Relu' }, inputs: ['h'], outputs: ['a'] },
      { name: 'fc2', op: { type: 'Dense', weight: weight([10, 1000], ratio), bias: bias(10) }, inputs: ['a'], outputs: ['y'] },
    ],
    metadata: {},
  };
}

/** LeNet-5 style: conv 6@5x5 pad 2 → pool → conv 16@5x5 → pool → 120 → 84 → 10, ReLU, max-pool 2. */
function lenet(ratio: number): Model {
  const conv = (m: number, c: number, pad: number): Conv2DOp =>
    ({ type: 'Conv2D', weight: weight([m, c, 5, 5], ratio), bias: bias(m), strides: [1, 1], pads: [pad, pad, pad, pad], dilations: [1, 1], group: 1 });
  const pool: MaxPoolOp = { type: 'MaxPool', kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1], ceilMode: false };
  const dense = (o: number, i: number): DenseOp => ({ type: 'Dense', weight: weight([o, i], ratio), bias: bias(o) });
  const chain: Model['nodes'][0]['op'][] = [
    { type: 'Reshape', shape: [-1, 1, 28, 28] }, conv(6, 1, 2), { type: 'Relu' }, pool, conv(16, 6, 0), { type: 'Relu' }, pool,
    { type: 'Flatten', axis: 1 }, dense(120, 400), { type: 'Relu' }, dense(84, 120), { type: 'Relu' }, dense(10, 84),
  ];
  return {
    inputs: [{ name: 'x', shape: [-1, 784] }],
    outputs: [{ name: `t${chain.length}`, shape: [-1, 10] }],
    nodes: chain.map((op, i) => ({ name: `n${i}`, op, inputs: [i === 0 ? 'x' : `t${i}`], outputs: [`t${i + 1}`] })),
    metadata: {},
  };
}

let ortStepsPerRun = 0; // as the engine reports it, for the header

/** Seconds per 60k examples of engine.steps over the first `count` examples. */
async function hnetSeconds(engine: EngineName, model: Model, threads: number, data: Dataset, count: number): Promise<number> {
  const e = await createEngine(engine, model, {
    init: 'scratch', seed: 1, threads, quiet: true,
    loss: { alpha: 1, temperature: 1 }, optimizer: { name: 'sgd', momentum: 0.9, nesterov: true },
  });
  const size = data.x.length / data.count;
  const batch = (from: number) => {
    const n = Math.min(BATCH, count - from);
    return { count: n, x: data.x.subarray(from * size, (from + n) * size), labels: data.y!.subarray(from, from + n), teacher: null };
  };
  if (engine === 'ort') ortStepsPerRun = e.stepsPerRun;
  // As train() does: stepsPerRun batches per run while there are that many, then one at a time.
  const run = async (from: number, steps: number) => {
    const batches = Array.from({ length: steps }, (_, t) => batch(from + t * BATCH));
    await e.steps(batches, batches.map(() => 0.01));
  };
  // Warm-up: compiles the graphs (or kernels) of both run sizes.
  if (Math.floor(count / BATCH) >= e.stepsPerRun) await run(0, e.stepsPerRun);
  if (e.stepsPerRun > 1) await run(0, 1);
  const started = performance.now();
  for (let from = 0; from < count; ) {
    const steps = Math.floor((count - from) / BATCH) >= e.stepsPerRun ? e.stepsPerRun : 1;
    await run(from, steps);
    from += steps * BATCH;
  }
  const seconds = (performance.now() - started) / 1000;
  await e.dispose();
  return (seconds * 60000) / count;
}

/**
 * PyTorch's environment. This machine sets OPENBLAS_CORETYPE (and OPENBLAS_L2_SIZE) for old OpenBLAS
 * builds, which pins Debian's OpenBLAS 0.3.21 to its AVX2 kernels on an AVX-512 CPU and makes the
 * peer ~1.7x slower than it is: unset both for the peer alone (torch_reference.py prints the core
 * OpenBLAS then picks, and the library it loaded).
 */
function torchEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  return env;
}

/** Debian's libopenblas0-openmp: OpenBLAS on libgomp, the OpenMP runtime torch's own thread pool uses. */
const OPENBLAS_OPENMP = '/usr/lib/x86_64-linux-gnu/openblas-openmp';

interface TorchSetup {
  name: string;
  env: NodeJS.ProcessEnv;
}

/**
 * The PyTorch set-ups tried at a thread count; each row keeps the fastest (the fair comparison is
 * with PyTorch at its best). One thread: the pthread OpenBLAS at one thread. More: with the pthread
 * OpenBLAS at as many threads, its pool and torch's OpenMP pool spin against each other (on 2 cores
 * torch got 3× slower than at 1 thread), so that set-up is not tried; instead OpenBLAS on OpenMP
 * (one pool, selected for this process alone by LD_LIBRARY_PATH, the system default untouched), the
 * same with OMP_WAIT_POLICY=PASSIVE (no spinning: on a loaded machine spinning threads steal the
 * cores), and the pthread OpenBLAS kept at one thread with only torch's pool at `threads`.
 */
function torchSetups(threads: number): TorchSetup[] {
  if (threads === 1) return [{ name: 'OpenBLAS pthread, 1 thread', env: torchEnv({ OPENBLAS_NUM_THREADS: '1' }) }];
  const setups: TorchSetup[] = [{ name: `OpenBLAS pthread at 1 thread, torch's OpenMP pool at ${threads}`, env: torchEnv({ OPENBLAS_NUM_THREADS: '1' }) }];
  if (existsSync(OPENBLAS_OPENMP)) {
    const path = { LD_LIBRARY_PATH: [OPENBLAS_OPENMP, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') };
    setups.push({ name: 'OpenBLAS OpenMP (one pool with torch)', env: torchEnv(path) });
    setups.push({ name: 'OpenBLAS OpenMP, OMP_WAIT_POLICY=PASSIVE', env: torchEnv({ ...path, OMP_WAIT_POLICY: 'PASSIVE' }) });
  } else {
    console.error(`${OPENBLAS_OPENMP} is missing: PyTorch at ${threads} threads is tried without OpenBLAS on OpenMP (apt-get install -y libopenblas0-openmp; see bench/train/README.md)`);
  }
  return setups;
}

function torchSeconds(threads: number, config: string, setup: TorchSetup): { header: string; seconds: number } {
  const run = spawnSync('/usr/bin/python3', ['bench/train/torch_reference.py', '--threads', String(threads), '--examples', String(examples), '--configs', config], { encoding: 'utf8', env: setup.env });
  const m = /^RESULT \w+: [\d.]+ s\/epoch, ([\d.]+) s per 60k/m.exec(run.stdout);
  if (run.status !== 0 || !m) throw new Error(`torch_reference.py failed (${setup.name}): ${run.stderr}`);
  return { header: run.stdout.split('\n')[0], seconds: Number(m[1]) };
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

const backend = await selectBackend(undefined, null);
const data = normalize(sliceDataset(loadIdxDir('/usr/share/datasets/fashion-mnist').train, 0, examples), { scale: 1 / 255, mean: [0.286], std: [0.353] });
const configs: { name: string; label: string; model: () => Model; tfjsCount: number }[] = [
  { name: 'dense', label: '784-1000-10 dense', model: () => mlp(1), tfjsCount: tfjsExamples },
  { name: 'hash8', label: '784-1000-10 HashNet 1/8', model: () => mlp(1 / 8), tfjsCount: tfjsExamples },
  { name: 'hash64', label: '784-1000-10 HashNet 1/64', model: () => mlp(1 / 64), tfjsCount: tfjsExamples },
  { name: 'lenet8', label: 'LeNet-5 CNN HashNet 1/8', model: () => lenet(1 / 8), tfjsCount: tfjsCnnExamples },
];
if (only) for (const name of only) if (!configs.some((c) => c.name === name)) throw new Error(`--configs: no config '${name}' (have ${configs.map((c) => c.name).join(', ')})`);
const rows: { threads: number; text: string }[] = [];
const headers = new Set<string>();
const setupLines: string[] = [];
for (const c of configs.filter((c) => !only || only.includes(c.name))) {
  const setups = new Map(threadCounts.map((t) => [t, torchSetups(t)]));
  const times = new Map(threadCounts.map((t) => [t, { ort: [] as number[], torch: setups.get(t)!.map(() => [] as number[]) }]));
  const tfjsTimes: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const threads of threadCounts) {
      const t = times.get(threads)!;
      setups.get(threads)!.forEach((setup, k) => {
        const torch = torchSeconds(threads, c.name, setup);
        headers.add(torch.header.replace(/, \d+ train \/ \d+ test, 1 epoch.*BLAS/, ', BLAS'));
        t.torch[k].push(torch.seconds);
      });
      t.ort.push(await hnetSeconds('ort', c.model(), threads, data, examples));
    }
    if (withTfjs) tfjsTimes.push(await hnetSeconds('tfjs', c.model(), 1, data, c.tfjsCount));
  }
  // tfjs-wasm has one thread in Node: its time stands in every row, marked beyond 1 thread.
  const tfjs = tfjsTimes.length ? median(tfjsTimes) : null;
  for (const threads of threadCounts) {
    const t = times.get(threads)!;
    const medians = t.torch.map(median);
    const best = medians.indexOf(Math.min(...medians));
    const [ort, py] = [median(t.ort), medians[best]];
    const setupList = setups.get(threads)!;
    if (setupList.length > 1) setupLines.push(`${c.label}, ${threads} threads: ${setupList.map((s, k) => `${s.name} ${medians[k].toFixed(2)} s`).join('; ')}`);
    const tfjsCell = tfjs === null ? '—' : `${tfjs.toFixed(1)} s${threads > 1 ? ' †' : ''}`;
    const text = `| ${c.label} | ${threads} | ${ort.toFixed(2)} s | ${tfjsCell} | ${py.toFixed(2)} s | ${(ort / py).toFixed(2)}× | ${tfjs === null ? '—' : `${(tfjs / py).toFixed(1)}×`} | ${setupList[best].name} |`;
    rows.push({ threads, text });
    console.error(text, `ort [${t.ort.map((v) => v.toFixed(2))}] torch [${t.torch.map((v) => `[${v.map((x) => x.toFixed(2))}]`)}]${tfjsTimes.length ? ` tfjs [${tfjsTimes.map((v) => v.toFixed(1))}]` : ''}`);
  }
}
console.log(`hnet: ort engine (onnxruntime-node, ${ortStepsPerRun} steps per run), tfjs engine (backend ${backend}); ${examples} examples (tfjs: ${tfjsExamples}, CNN ${tfjsCnnExamples}), batch ${BATCH}, scaled to 60k; median of ${rounds} interleaved rounds`);
for (const h of headers) console.log(h);
console.log('PyTorch set-ups tried beyond 1 thread (median s per 60k; each row keeps the fastest):');
for (const l of setupLines) console.log(`  ${l}`);
console.log('\n| per 60,000 examples | threads | hnet ort | hnet tfjs | PyTorch | ort / PyTorch | tfjs / PyTorch | PyTorch set-up |\n|---|---:|---:|---:|---:|---:|---:|---|');
for (const r of [...rows].sort((a, b) => a.threads - b.threads)) console.log(r.text);
if (withTfjs && threadCounts.some((t) => t > 1)) console.log('† tfjs-wasm runs one thread in Node: its 1-thread time.');
