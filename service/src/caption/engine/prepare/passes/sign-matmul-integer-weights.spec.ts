import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { TINY_MODEL } from '../../../../../test/support/fixtures';
import { DataType, bytesOf, graphOf, node } from '../../../../../test/support/onnx-graphs';
import { onnxFileName } from '../../model/model-spec';
import { cpuHasVnni } from '../cpu-features';
import { decodeModel, encodeModel, makeTensor } from '../onnx-proto';
import { signMatMulIntegerWeights } from './sign-matmul-integer-weights';

describe('signMatMulIntegerWeights', () => {
  const bytes = readFileSync(join(TINY_MODEL, onnxFileName('encoder_model', 'q8')));

  it('converts the uint8 MatMulInteger weights, keeping the encoder output bit-identical', async () => {
    const model = decodeModel(bytes, 'encoder');
    const converted = signMatMulIntegerWeights(model.graph);
    expect(converted).toBeGreaterThan(0);
    const uint8Left = model.graph.node
      .filter((n) => n.opType === 'MatMulInteger')
      .filter(
        (n) =>
          model.graph.initializer.find((t) => t.name === n.input[1])?.dataType === DataType.UINT8,
      );
    expect(uint8Left).toHaveLength(0);
    if (!cpuHasVnni()) return; // without VNNI the int8 kernel may saturate; the engine then skips this
    const pixels = new ort.Tensor(
      'float32',
      Float32Array.from({ length: 3 * 224 * 224 }, (_, i) => Math.sin(i)),
      [1, 3, 224, 224],
    );
    const run = async (source: Uint8Array) => {
      const session = await ort.InferenceSession.create(source);
      const out = await session.run({ pixel_values: pixels });
      await session.release();
      return out[Object.keys(out)[0]].data as Float32Array;
    };
    const [before, after] = [await run(bytes), await run(encodeModel(model))];
    expect(Array.from(after)).toEqual(Array.from(before));
  });

  it('leaves a weight alone when something else than a MatMulInteger weight slot reads it', () => {
    const u8 = (name: string, shape: number[]) =>
      makeTensor(name, DataType.UINT8, shape, new Uint8Array(shape.reduce((a, b) => a * b, 1)));
    const graph = graphOf({
      nodes: [
        node('MatMulInteger', ['a', 'w', 'a_zero', 'w_zero'], ['y']),
        // The same weight also read as data: shifting it would change this output.
        node('Cast', ['w'], ['w_as_int'], [{ name: 'to', type: 2, i: DataType.INT32 }]),
      ],
      inputs: [['a', DataType.UINT8, [2, 4]]],
      outputs: [
        ['y', DataType.INT32, [2, 3]],
        ['w_as_int', DataType.INT32, [4, 3]],
      ],
      initializers: [u8('w', [4, 3]), u8('a_zero', []), u8('w_zero', [])],
    });
    const before = bytesOf(graph);
    expect(signMatMulIntegerWeights(graph)).toBe(0);
    expect(bytesOf(graph)).toEqual(before);
  });
});
