// Joins the trainer and the WASM runtime to the CLI: the train, eval, bench
// and demo verbs, `convert --retrain`, and `--engine wasm`. Kept apart from
// the import/export verbs so that those stay free of TensorFlow.js.

import '../engines.js';
import { registerVerb } from './registry.js';
import { TRAINING_FLAGS, runTraining } from './training.js';
import { benchVerb } from './verbs/bench.js';
import { addConvertHook, convertVerb } from './verbs/convert.js';
import { demoVerb } from './verbs/demo.js';
import { evalVerb } from './verbs/eval.js';
import { trainVerb } from './verbs/train.js';

convertVerb.flags.push(
  { name: 'retrain', kind: 'string', value: 'DATA', help: 'retrain the hashed model on DATA before writing (see hnet train --help)' },
  ...TRAINING_FLAGS,
);
convertVerb.examples.push('hnet convert fixtures/mnist_mlp.onnx -o mnist.hnet --compression 1/64 --retrain mnist --distill --epochs 5');

addConvertHook(async (model, { args, io, dense }) => {
  const data = args.strings.get('retrain') ?? args.strings.get('data');
  if (!data) return model;
  return (await runTraining(model, dense, data, args, io)).model;
});

registerVerb(trainVerb);
registerVerb(evalVerb);
registerVerb(benchVerb);
registerVerb(demoVerb);
