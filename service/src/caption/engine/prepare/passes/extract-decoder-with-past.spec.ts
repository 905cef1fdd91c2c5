import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TINY_MODEL } from '../../../../../test/support/fixtures';
import { DataType, graphOf, modelOf, node } from '../../../../../test/support/onnx-graphs';
import { onnxFileName } from '../../model/model-spec';
import { createGraph, decodeModel, Graph } from '../onnx-proto';
import { USE_CACHE_BRANCH } from '../tensor-names';
import { extractDecoderWithPast } from './extract-decoder-with-past';

const F = DataType.FLOAT;
const BOOL = DataType.BOOL;

describe('extractDecoderWithPast', () => {
  it('takes the with-past branch of the merged If and drops use_cache_branch', () => {
    const file = join(TINY_MODEL, onnxFileName('decoder_model_merged', 'fp32'));
    const stock = decodeModel(readFileSync(file), file);
    const withPast = extractDecoderWithPast(stock);
    expect(withPast.node.some((n) => n.opType === 'If')).toBe(false);
    expect(withPast.input.map((i) => i.name)).not.toContain(USE_CACHE_BRANCH);
    expect(withPast.output.map((o) => o.name)).toEqual(stock.graph.output.map((o) => o.name));
    // Every value a node reads is an input, an initializer or another node's output.
    const known = new Set([
      ...withPast.input.map((i) => i.name),
      ...withPast.initializer.map((t) => t.name),
      ...withPast.node.flatMap((n) => n.output),
      '',
    ]);
    expect(withPast.node.flatMap((n) => n.input).filter((x) => !known.has(x))).toEqual([]);
  });

  it('returns a plain with-past decoder as it is', () => {
    const graph = graphOf({
      nodes: [node('Identity', ['past_key_values.0.key'], ['present.0.key'])],
      inputs: [['past_key_values.0.key', F, [1, 1, 1, 1]]],
      outputs: [['present.0.key', F, [1, 1, 1, 1]]],
    });
    const out = extractDecoderWithPast(modelOf(graph));
    expect(out.node.map((n) => n.opType)).toEqual(['Identity']);
    expect(out.input.map((i) => i.name)).toEqual(['past_key_values.0.key']);
  });

  const branch = (name: string): Graph =>
    createGraph({ name, node: [node('Identity', ['x'], [`${name}_y`])], output: [] });
  const ifNode = (output: string) =>
    node(
      'If',
      [USE_CACHE_BRANCH],
      [output],
      [
        { name: 'then_branch', type: 5, g: branch('then') },
        { name: 'else_branch', type: 5, g: branch('else') },
      ],
    );

  it.each([
    [
      'neither a cache input nor a use_cache_branch If',
      graphOf({
        nodes: [node('Identity', ['x'], ['y'])],
        inputs: [['x', F, [1]]],
        outputs: [['y', F, [1]]],
      }),
      /neither past_key_values inputs nor a use_cache_branch If/,
    ],
    [
      'two use_cache_branch Ifs',
      graphOf({
        nodes: [ifNode('a'), ifNode('b')],
        inputs: [[USE_CACHE_BRANCH, BOOL, [1]]],
        outputs: [['a', F, [1]]],
      }),
      /more than one use_cache_branch If/,
    ],
    [
      'use_cache_branch read outside the If',
      graphOf({
        nodes: [ifNode('a'), node('Not', [USE_CACHE_BRANCH], ['b'])],
        inputs: [[USE_CACHE_BRANCH, BOOL, [1]]],
        outputs: [['a', F, [1]]],
      }),
      /used outside the If/,
    ],
  ])('refuses a graph with %s', (_case, graph, message) => {
    expect(() => extractDecoderWithPast(modelOf(graph))).toThrow(message);
  });
});
