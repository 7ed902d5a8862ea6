// The TensorFlow.js engine: the first trainer, kept as the second engine and
// as the oracle the ort engine is tested against. A TrainableGraph holds the
// variables; tf.variableGrads gives the gradients; the update rules and the
// losses are written out below with tf ops.

import * as tf from '@tensorflow/tfjs';
import type { Model } from '@hnet/format';
import { currentBackend, selectBackend, type BackendName } from './backend.js';
import { DEFAULT_OPTIMIZER, type Batch, type EngineOptions, type StepResult, type TrainingEngine } from './engine.js';
import { TrainError } from './errors.js';
import { TrainableGraph } from './graph.js';
import { fromTfLayout, toTfLayout } from './hashed.js';
import type { LossSpec } from './ort/loss.js';
import type { OptimizerSpec } from './ort/optimizer.js';

/** Starts the requested backend, or the automatic choice if none was started yet. */
export async function ensureBackend(wanted: BackendName | undefined, quiet: boolean): Promise<string> {
  const current = currentBackend();
  if (current && (!wanted || wanted === current)) return current;
  return selectBackend(wanted, quiet ? null : undefined);
}

// ---- optimisers: the update rules, written out ---------------------------------

interface Optimizer {
  /** One update; variable k moves at rate lr · rateFactors[k]. */
  step(vars: tf.Variable[], grads: tf.Tensor[], lr: number, rateFactors: readonly number[]): void;
  dispose(): void;
}

/** SGD with momentum (PyTorch form): v ← μv + g; w ← w − lr·(nesterov ? g + μv : v). */
function sgd(momentum: number, nesterov: boolean): Optimizer {
  const velocity = new Map<tf.Variable, tf.Variable>();
  return {
    step(vars, grads, base, rateFactors) {
      vars.forEach((w, k) => {
        tf.tidy(() => {
          const g = grads[k];
          const lr = base * rateFactors[k];
          if (momentum === 0) return w.assign(tf.sub(w, tf.mul(g, lr)));
          let v = velocity.get(w);
          if (!v) velocity.set(w, (v = tf.variable(tf.zerosLike(w), false)));
          v.assign(tf.add(tf.mul(v, momentum), g));
          const update = nesterov ? tf.add(g, tf.mul(v, momentum)) : v;
          w.assign(tf.sub(w, tf.mul(update, lr)));
        });
      });
    },
    dispose: () => velocity.forEach((v) => v.dispose()),
  };
}

/** Adam: m ← β1m + (1−β1)g; v ← β2v + (1−β2)g²; w ← w − lr·m̂/(√v̂ + ε). */
function adam(beta1: number, beta2: number, epsilon: number): Optimizer {
  const moments = new Map<tf.Variable, [tf.Variable, tf.Variable]>();
  let t = 0;
  return {
    step(vars, grads, lr, rateFactors) {
      t++;
      const base = (lr * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t);
      vars.forEach((w, k) => {
        tf.tidy(() => {
          const g = grads[k];
          const lrT = base * rateFactors[k];
          let mv = moments.get(w);
          if (!mv) moments.set(w, (mv = [tf.variable(tf.zerosLike(w), false), tf.variable(tf.zerosLike(w), false)]));
          const [m, v] = mv;
          m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
          v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2)));
          w.assign(tf.sub(w, tf.mul(tf.div(m, tf.add(tf.sqrt(v), epsilon)), lrT)));
        });
      });
    },
    dispose: () => moments.forEach(([m, v]) => (m.dispose(), v.dispose())),
  };
}

function optimizerOf(spec: OptimizerSpec): Optimizer {
  return spec.name === 'adam' ? adam(spec.beta1, spec.beta2, spec.epsilon) : sgd(spec.momentum, spec.nesterov);
}

// ---- losses --------------------------------------------------------------------

/** Mean cross-entropy of logits [n, k] against integer labels [n]. */
function crossEntropy(logits: tf.Tensor, labels: tf.Tensor1D): tf.Scalar {
  const logp = tf.logSoftmax(logits);
  return tf.neg(tf.mean(tf.sum(tf.mul(logp, tf.oneHot(labels, logits.shape[1]!)), 1))) as tf.Scalar;
}

/** T² · mean KL(softmax(teacher/T) ‖ softmax(student/T)) (Hinton et al.; HashNet_DK). */
function distillation(studentLogits: tf.Tensor, teacherLogits: tf.Tensor, T: number): tf.Scalar {
  const pt = tf.softmax(tf.div(teacherLogits, T));
  const kl = tf.sum(tf.mul(pt, tf.sub(tf.logSoftmax(tf.div(teacherLogits, T)), tf.logSoftmax(tf.div(studentLogits, T)))), 1);
  return tf.mul(tf.mean(kl), T * T);
}

// ---- the engine ----------------------------------------------------------------

export class TfjsEngine implements TrainingEngine {
  readonly name = 'tfjs' as const;
  readonly threads = 1;
  readonly description: string;
  readonly classes: number;
  private optimizer: Optimizer;
  private readonly rateFactors: readonly number[];
  private readonly decayed: Set<tf.Variable>;
  private readonly loss: LossSpec;
  private readonly per: number[];

  private constructor(
    private readonly graph: TrainableGraph,
    private readonly options: EngineOptions,
    backend: string,
  ) {
    this.description = `tfjs (${backend})`;
    this.loss = options.loss ?? { alpha: 1, temperature: 1 };
    this.optimizer = optimizerOf(options.optimizer ?? DEFAULT_OPTIMIZER);
    this.rateFactors = options.rateFactors ?? graph.params.map(() => 1);
    if (this.rateFactors.length !== graph.params.length) throw new TrainError('options', `${this.rateFactors.length} rate factors for ${graph.params.length} parameters`);
    this.decayed = new Set(graph.params.filter((p) => p.layer).map((p) => p.variable));
    this.per = graph.model.inputs[0].shape.slice(1);
    this.classes = tf.tidy(() => {
      const logits = graph.forward(tf.zeros([1, ...this.per]), { logits: true });
      if (logits.rank !== 2) throw new TrainError('model', `the model output must be [N, classes] for classification, got [${logits.shape}]`);
      return logits.shape[1]!;
    });
  }

  static async create(model: Model, options: EngineOptions): Promise<TfjsEngine> {
    const backend = await ensureBackend(options.backend, options.quiet ?? true);
    if ((options.dropout ?? 0) > 0 && !options.rng) throw new TrainError('options', 'dropout needs an rng');
    return new TfjsEngine(new TrainableGraph(model, { init: options.init ?? 'project', seed: options.seed ?? 0, quantizationAware: options.quantizationAware }), options, backend);
  }

  parameterCounts(): { stored: number; virtual: number } {
    return this.graph.parameterCounts();
  }

  /** Loss, logits and raw gradients of one batch (inside the caller's tidy). */
  private lossAndGrads(batch: Batch): { value: tf.Scalar; grads: tf.Tensor[]; logits: tf.Tensor } {
    const { alpha, temperature: T } = this.loss;
    const x = tf.tensor(batch.x, [batch.count, ...this.per]);
    const labels = batch.labels ? tf.tensor1d(batch.labels, 'int32') : null;
    const soft = batch.teacher ? tf.tensor2d(batch.teacher, [batch.count, this.classes]) : null;
    let logitsOut: tf.Tensor | null = null;
    const vars = this.graph.variables;
    const { value, grads } = tf.variableGrads(() => {
      const logits = this.graph.forward(x, { logits: true, dropout: this.options.dropout ?? 0, rng: this.options.rng });
      logitsOut = tf.keep(logits);
      let loss: tf.Scalar = tf.scalar(0);
      if (alpha > 0) loss = tf.add(loss, tf.mul(crossEntropy(logits, labels!), alpha));
      if (alpha < 1) loss = tf.add(loss, tf.mul(distillation(logits, soft!, T), 1 - alpha));
      return loss;
    }, vars);
    const decay = this.options.weightDecay ?? 0;
    const list = vars.map((v) => (decay > 0 && this.decayed.has(v) ? tf.add(grads[v.name], tf.mul(v, decay)) : grads[v.name]));
    return { value, grads: list, logits: logitsOut! };
  }

  async step(batch: Batch, lr: number): Promise<StepResult> {
    return tf.tidy(() => {
      const { value, grads, logits } = this.lossAndGrads(batch);
      this.optimizer.step(this.graph.variables, grads, lr, this.rateFactors);
      const predicted = tf.argMax(logits, 1);
      const target = batch.labels ? tf.tensor1d(batch.labels, 'int32') : tf.argMax(tf.tensor2d(batch.teacher!, [batch.count, this.classes]), 1);
      const hits = tf.sum(tf.cast(tf.equal(predicted, target), 'int32'));
      const result = { loss: value.dataSync()[0], hits: hits.dataSync()[0] };
      logits.dispose(); // kept out of the gradient scope, so tidy does not own it
      return result;
    });
  }

  async gradients(batch: Batch): Promise<{ loss: number; grads: Float32Array[] }> {
    return tf.tidy(() => {
      const { value, grads, logits } = this.lossAndGrads(batch);
      logits.dispose();
      const out = grads.map((g, k) => this.fromTf(k, g.dataSync() as Float32Array));
      return { loss: value.dataSync()[0], grads: out };
    });
  }

  async logits(x: Float32Array, count: number): Promise<Float32Array> {
    const out = new Float32Array(count * this.classes);
    const size = x.length / count;
    for (let from = 0; from < count; from += 500) {
      const n = Math.min(500, count - from);
      const logits = tf.tidy(() => this.graph.forward(tf.tensor(x.subarray(from * size, (from + n) * size), [n, ...this.per]), { logits: true }));
      out.set(logits.dataSync() as Float32Array, from * this.classes);
      logits.dispose();
    }
    return out;
  }

  snapshot(): Float32Array[] {
    return this.graph.params.map((p, k) => this.fromTf(k, p.variable.dataSync() as Float32Array));
  }

  restore(values: readonly Float32Array[]): void {
    tf.tidy(() =>
      this.graph.params.forEach((p, k) => p.variable.assign(tf.tensor(p.hashed ? values[k] : toTfLayout(values[k], p.weight.shape), p.variable.shape))),
    );
  }

  resetOptimizer(): void {
    this.optimizer.dispose();
    this.optimizer = optimizerOf(this.options.optimizer ?? DEFAULT_OPTIMIZER);
  }

  toModel(): Model {
    return this.graph.toModel();
  }

  async dispose(): Promise<void> {
    this.optimizer.dispose();
    this.graph.dispose();
  }

  /** tf layout → the engines' common layout (buckets, or row-major virtual values). */
  private fromTf(k: number, data: Float32Array): Float32Array {
    const p = this.graph.params[k];
    return p.hashed ? Float32Array.from(data) : fromTfLayout(data, p.weight.shape);
  }
}
