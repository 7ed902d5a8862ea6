// Softmax and LogSoftmax. From opset 13 they normalize one axis, as hnet's
// ops do; before, they work on the input flattened to 2-D at `axis`.

import { BATCH } from '@hnet/format';
import { int } from '../attributes.js';
import { converter, LATEST_OPSET, type Converter } from '../converter.js';
import { refuse } from '../refusal.js';

function softmax(op: 'Softmax' | 'LogSoftmax'): Converter<{ axis: ReturnType<typeof int<null>> }> {
  return converter({
    opTypes: [op],
    opsets: [1, LATEST_OPSET],
    attributes: { axis: int(null) },
    convert(ctx) {
      const x = ctx.data(0);
      if (ctx.opset >= 13) return void ctx.emit({ type: op, axis: ctx.attrs.axis ?? -1 }, [x]);
      const shape = ctx.shape(x);
      const rank = shape.length;
      const given = ctx.attrs.axis ?? 1;
      const axis = given < 0 ? given + rank : given;
      if (axis < 0 || axis >= rank) refuse(`axis ${given} out of range for rank ${rank}`);
      // Same as the single-axis op when nothing but 1s follows the axis.
      if (shape.slice(axis + 1).every((d) => d === 1)) return void ctx.emit({ type: op, axis }, [x]);
      // Otherwise: flatten to 2-D, normalize over the trailing block, restore the shape.
      if (shape.slice(1).some((d) => d === BATCH)) refuse(`opset-${ctx.opset} ${op} over axis ${axis} needs known dims, got [${shape}]`);
      const flat = ctx.emit({ type: 'Flatten', axis }, [x], ctx.temp('flat'), 'flatten');
      const norm = ctx.emit({ type: op, axis: 1 }, [flat], ctx.temp('2d'), '2d');
      ctx.emit({ type: 'Reshape', shape: shape[0] === BATCH ? [-1, ...shape.slice(1)] : [...shape] }, [norm], ctx.out, 'reshape');
    },
  });
}

export const softmaxOp = softmax('Softmax');
export const logSoftmax = softmax('LogSoftmax');
