import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TINY_MODEL } from '../../../../../test/support/fixtures';
import { DataType, graphOf, node } from '../../../../../test/support/onnx-graphs';
import { ModelDtype, onnxFileName, readModelSpec } from '../../model/model-spec';
import { decodeModel } from '../onnx-proto';
import { ENCODER_STATE_INPUT, INPUT_IDS, PAST_PREFIX } from '../tensor-names';
import { extractDecoderWithPast } from './extract-decoder-with-past';
import { hoistInvariant } from './hoist-invariant';

const F = DataType.FLOAT;
const spec = readModelSpec(TINY_MODEL);

describe.each(['fp32', 'q8'] as ModelDtype[])('hoistInvariant on the tiny %s decoder', (dtype) => {
  const file = join(TINY_MODEL, onnxFileName('decoder_model_merged', dtype));
  const split = hoistInvariant(extractDecoderWithPast(decodeModel(readFileSync(file), file)));

  it("moves every layer's cross-attention key/value projection out of the step graph", () => {
    expect(split.hoisted).toHaveLength(2 * spec.decoderLayers);
    expect(split.once.input.map((i) => i.name)).toEqual([ENCODER_STATE_INPUT]);
    expect(split.once.output.map((o) => o.name)).toEqual(split.hoisted);
    const heavy = new Set(['MatMul', 'Gemm', 'MatMulInteger']);
    expect(split.once.node.filter((n) => heavy.has(n.opType)).length).toBeGreaterThanOrEqual(
      spec.decoderLayers,
    );
    // The step graph reads the encoder states only for their shape...
    expect(split.perStepReadsInvariant).toBe(true);
    const readers = split.perStep.node.filter((n) => n.input.includes(ENCODER_STATE_INPUT));
    expect(readers.map((n) => n.opType).every((op) => op === 'Shape' || op === 'Size')).toBe(true);
    // ...and nothing left in it could have been computed once: every node that uses a hoisted
    // value also depends on the tokens or the cache.
    const perToken = new Set([
      INPUT_IDS,
      ...split.perStep.input.map((i) => i.name).filter((n) => n.startsWith(PAST_PREFIX)),
    ]);
    for (const n of split.perStep.node) {
      if (n.input.some((x) => perToken.has(x))) n.output.forEach((o) => perToken.add(o));
    }
    const invariantUsers = split.perStep.node.filter(
      (n) =>
        n.input.some((x) => split.hoisted.includes(x)) &&
        !n.input.some((x) => perToken.has(x)) &&
        n.opType !== 'Shape',
    );
    expect(invariantUsers.map((n) => n.name)).toEqual([]);
  });
});

describe('hoistInvariant on small graphs', () => {
  it('keeps shape reads and nodes with subgraphs in the step graph', () => {
    const graph = graphOf({
      nodes: [
        node('Relu', ['states'], ['projected']),
        node('Shape', ['states'], ['states_shape']),
        node('Add', ['x', 'projected'], ['sum']),
        node('Reshape', ['sum', 'states_shape'], ['y']),
      ],
      inputs: [
        ['states', F, [2, 3]],
        ['x', F, [2, 3]],
      ],
      outputs: [['y', F, [2, 3]]],
    });
    const split = hoistInvariant(graph, 'states');
    expect(split.once.node.map((n) => n.opType)).toEqual(['Relu']);
    expect(split.hoisted).toEqual(['projected']);
    expect(split.perStep.node.map((n) => n.opType)).toEqual(['Shape', 'Add', 'Reshape']);
    expect(split.perStep.input.map((i) => i.name)).toEqual(['states', 'x', 'projected']);
  });

  it.each([
    [
      'the invariant input is missing',
      graphOf({
        nodes: [node('Relu', ['x'], ['y'])],
        inputs: [['x', F, [1]]],
        outputs: [['y', F, [1]]],
      }),
      /no input named states/,
    ],
    [
      'only the shape of the invariant input is read',
      graphOf({
        nodes: [node('Shape', ['states'], ['s']), node('Reshape', ['x', 's'], ['y'])],
        inputs: [
          ['states', F, [1]],
          ['x', F, [1]],
        ],
        outputs: [['y', F, [1]]],
      }),
      /nothing in the graph depends only on states/,
    ],
    [
      'a graph output depends only on the invariant input',
      graphOf({
        nodes: [node('Relu', ['states'], ['y'])],
        inputs: [['states', F, [1]]],
        outputs: [['y', F, [1]]],
      }),
      /graph output y would be hoisted/,
    ],
  ])('refuses when %s', (_case, graph, message) => {
    expect(() => hoistInvariant(graph, 'states')).toThrow(message);
  });
});
