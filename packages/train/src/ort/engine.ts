// The onnxruntime engine: compiled graphs (compile.ts) run by an injected
// onnxruntime — onnxruntime-node (node.ts) or onnxruntime-web (browser.ts),
// which share onnxruntime-common's InferenceSession/Tensor API. Nothing here
// imports Node. One session per (graph kind, batch size), created on first
// use. Parameters and optimiser state live in two pre-allocated sets of
// tensors; each step reads one set and writes the other through
// pre-allocated outputs, then the two swap — no allocation per step
// (on onnxruntime-node; see run() for onnxruntime-web).

import type { InferenceSession, Tensor } from 'onnxruntime-common';
import { sizeOf, type Model } from '@hnet/format';
import { DEFAULT_OPTIMIZER, countHits, type Batch, type EngineOptions, type StepResult, type TrainingEngine } from '../engine.js';
import { TrainError } from '../errors.js';
import { logitsName, parameterCounts, trainableParams, withValues, type TrainableParam } from '../params.js';
import { compile, shapesAt, type CompiledGraph, type CompiledParam, type GraphKind, type StepSpec } from './compile.js';
import { hashArrays } from './hashed.js';
import { effectiveRate, stateSlots } from './optimizer.js';

const EVAL_BATCH = 500;

/** What the engine uses of an onnxruntime package (onnxruntime-node and onnxruntime-web both are one). */
export interface OrtModule {
  InferenceSession: { create(model: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession> };
  Tensor: new (type: 'float32', data: Float32Array, dims?: readonly number[]) => Tensor;
}

/** An onnxruntime and how to name it: "onnxruntime-node 1.30.0". */
export interface OrtRuntime {
  ort: OrtModule;
  label: string;
  /** Intra-op threads when the options give none. */
  defaultThreads: number;
  /**
   * Whether run() writes into pre-allocated output tensors. onnxruntime-node
   * does; onnxruntime-web's WASM backend copies a pre-allocated CPU tensor in
   * but never copies the result back, so there the outputs are copied over.
   */
  writesIntoOutputs: boolean;
}

interface Session {
  graph: CompiledGraph;
  session: InferenceSession;
  /** Pre-allocated per batch size: the one-hot targets, dropout masks, loss and logits outputs. */
  target: Float32Array;
  masks: Tensor[];
  loss: Tensor;
  logits: Tensor;
}

/** Two sets of tensors (parameters or one optimiser state slot) that a step reads and writes alternately. */
type DoubleBuffer = [Tensor, Tensor];

export class OrtEngine implements TrainingEngine {
  readonly name = 'ort' as const;
  readonly description: string;
  private readonly sessions = new Map<string, Promise<Session>>();
  private readonly values: DoubleBuffer[];
  private readonly state: DoubleBuffer[][];
  private current: 0 | 1 = 0;
  private steps = 0;

  private constructor(
    private readonly model: Model,
    private readonly params: CompiledParam[],
    private readonly spec: StepSpec,
    private readonly options: EngineOptions,
    private readonly runtime: OrtRuntime,
    readonly threads: number,
    readonly classes: number,
  ) {
    this.description = `ort (${runtime.label}, ${threads} thread${threads === 1 ? '' : 's'})`;
    const dims = (p: CompiledParam) => (p.hash ? [p.param.values.length] : p.param.weight.shape);
    const doubleBuffer = (values: Float32Array, d: readonly number[]): DoubleBuffer => [
      new runtime.ort.Tensor('float32', Float32Array.from(values), d),
      new runtime.ort.Tensor('float32', new Float32Array(values.length), d),
    ];
    this.values = params.map((p) => doubleBuffer(p.param.values, dims(p)));
    const slots = stateSlots(spec.optimizer);
    this.state = params.map((p) => Array.from({ length: slots }, () => doubleBuffer(new Float32Array(p.param.values.length), dims(p))));
  }

  static async create(model: Model, options: EngineOptions, runtime: OrtRuntime): Promise<OrtEngine> {
    const threads = options.threads ?? runtime.defaultThreads;
    if (!(Number.isInteger(threads) && threads >= 1)) throw new TrainError('options', `threads ${threads}: must be an integer >= 1`);
    const dropout = options.dropout ?? 0;
    if (dropout > 0 && !options.rng) throw new TrainError('options', 'dropout needs an rng');
    const params: CompiledParam[] = trainableParams(model, options.init, options.seed, options.quantizationAware).map((param: TrainableParam) => ({
      param,
      hash: param.weight.hash ? hashArrays(param.weight, param.values.length) : null,
    }));
    const spec: StepSpec = {
      loss: options.loss ?? { alpha: 1, temperature: 1 },
      optimizer: options.optimizer ?? DEFAULT_OPTIMIZER,
      weightDecay: options.weightDecay ?? 0,
      dropout,
      rateFactors: options.rateFactors ?? params.map(() => 1),
    };
    if (spec.rateFactors.length !== params.length) throw new TrainError('options', `${spec.rateFactors.length} rate factors for ${params.length} parameters`);
    const logits = shapesAt(model, 1).get(logitsName(model));
    if (!logits || logits.length !== 2) throw new TrainError('model', `the model output must be [N, classes] for classification, got [${logits ?? ''}]`);
    return new OrtEngine(model, params, spec, options, runtime, threads, logits[1]);
  }

  parameterCounts(): { stored: number; virtual: number } {
    return parameterCounts(this.params.map((p) => p.param));
  }

  async step(batch: Batch, lr: number): Promise<StepResult> {
    const s = await this.session('step', batch.count);
    this.steps++;
    const feeds = this.feeds(s, batch);
    feeds.lr = new this.Tensor('float32', Float32Array.of(effectiveRate(this.spec.optimizer, lr, this.steps)), []);
    const next = (1 - this.current) as 0 | 1;
    const fetches: Record<string, Tensor> = { loss: s.loss, logits: s.logits };
    this.values.forEach((v, k) => {
      feeds[`param.${k}`] = v[this.current];
      fetches[`param.${k}.next`] = v[next];
      this.state[k].forEach((st, j) => {
        feeds[`state.${k}.${j}`] = st[this.current];
        fetches[`state.${k}.${j}.next`] = st[next];
      });
    });
    await this.run(s.session, feeds, fetches);
    this.current = next;
    return { loss: (s.loss.data as Float32Array)[0], hits: countHits(s.logits.data as Float32Array, batch, this.classes) };
  }

  async gradients(batch: Batch): Promise<{ loss: number; grads: Float32Array[] }> {
    const s = await this.session('gradients', batch.count);
    const feeds = this.feeds(s, batch);
    this.values.forEach((v, k) => (feeds[`param.${k}`] = v[this.current]));
    const out = await s.session.run(feeds);
    return { loss: (out.loss.data as Float32Array)[0], grads: this.values.map((_, k) => Float32Array.from(out[`grad.${k}`].data as Float32Array)) };
  }

  async logits(x: Float32Array, count: number): Promise<Float32Array> {
    const size = x.length / count;
    const out = new Float32Array(count * this.classes);
    for (let from = 0; from < count; from += EVAL_BATCH) {
      const n = Math.min(EVAL_BATCH, count - from);
      const s = await this.session('logits', n);
      const feeds: Record<string, Tensor> = { x: new this.Tensor('float32', x.subarray(from * size, (from + n) * size), this.inputDims(n)) };
      this.values.forEach((v, k) => (feeds[`param.${k}`] = v[this.current]));
      await this.run(s.session, feeds, { logits: s.logits });
      out.set(s.logits.data as Float32Array, from * this.classes);
    }
    return out;
  }

  snapshot(): Float32Array[] {
    return this.values.map((v) => Float32Array.from(v[this.current].data as Float32Array));
  }

  restore(values: readonly Float32Array[]): void {
    this.values.forEach((v, k) => (v[this.current].data as Float32Array).set(values[k]));
  }

  resetOptimizer(): void {
    for (const slots of this.state) for (const st of slots) (st[this.current].data as Float32Array).fill(0);
    this.steps = 0; // Adam's bias correction starts again
  }

  toModel(): Model {
    return withValues(this.model, this.params.map((p) => p.param), this.snapshot());
  }

  async dispose(): Promise<void> {
    for (const s of this.sessions.values()) await (await s).session.release();
    this.sessions.clear();
  }

  /** The injected onnxruntime's Tensor class. */
  private get Tensor(): OrtModule['Tensor'] {
    return this.runtime.ort.Tensor;
  }

  /** One run whose results land in `fetches`. */
  private async run(session: InferenceSession, feeds: Record<string, Tensor>, fetches: Record<string, Tensor>): Promise<void> {
    if (this.runtime.writesIntoOutputs) {
      await session.run(feeds, fetches);
      return;
    }
    const out = await session.run(feeds, Object.keys(fetches));
    for (const [name, tensor] of Object.entries(fetches)) (tensor.data as Float32Array).set(out[name].data as Float32Array);
  }

  private inputDims(n: number): number[] {
    return [n, ...this.model.inputs[0].shape.slice(1)];
  }

  /** x, targets and fresh dropout masks for one batch. */
  private feeds(s: Session, batch: Batch): Record<string, Tensor> {
    const n = batch.count;
    const feeds: Record<string, Tensor> = { x: new this.Tensor('float32', batch.x, this.inputDims(n)) };
    const { alpha } = this.spec.loss;
    if (alpha > 0) {
      if (!batch.labels) throw new TrainError('data', 'the loss weighs labels, but the batch has none');
      s.target.fill(0);
      for (let i = 0; i < n; i++) s.target[i * this.classes + batch.labels[i]] = 1;
      feeds.target = new this.Tensor('float32', s.target, [n, this.classes]);
    }
    if (alpha < 1) {
      if (!batch.teacher) throw new TrainError('data', 'the loss distils, but the batch has no teacher logits');
      feeds.teacher = new this.Tensor('float32', batch.teacher, [n, this.classes]);
    }
    const rate = this.spec.dropout;
    s.masks.forEach((m, j) => {
      const data = m.data as Float32Array;
      for (let i = 0; i < data.length; i++) data[i] = this.options.rng!.next() < rate ? 0 : 1 / (1 - rate);
      feeds[`mask.${j}`] = m;
    });
    return feeds;
  }

  private session(kind: GraphKind, n: number): Promise<Session> {
    const key = `${kind}:${n}`;
    let s = this.sessions.get(key);
    if (!s) {
      s = this.createSession(kind, n);
      this.sessions.set(key, s);
    }
    return s;
  }

  private async createSession(kind: GraphKind, n: number): Promise<Session> {
    const graph = compile(this.model, this.params, kind, n, kind === 'logits' ? null : this.spec);
    const session = await this.runtime.ort.InferenceSession.create(graph.bytes, {
      intraOpNumThreads: this.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    return {
      graph,
      session,
      target: new Float32Array(n * graph.classes),
      masks: graph.masks.map((dims) => new this.Tensor('float32', new Float32Array(sizeOf(dims)), dims)),
      loss: new this.Tensor('float32', new Float32Array(1), []),
      logits: new this.Tensor('float32', new Float32Array(n * graph.classes), [n, graph.classes]),
    };
  }
}
