import { findOrPrepare } from './service/src/caption/engine/onnx/model-preparer';
import { OnnxCaptionModel, gatherRows } from './service/src/caption/engine/onnx/onnx-caption-model';
import { generateBatch } from './service/src/caption/engine/onnx/batch-generator';
(async () => {
  const dtype = (process.argv[2] ?? 'q8') as 'q8' | 'fp32';
  const threads = Number(process.argv[3] ?? 2);
  const prepared = await findOrPrepare('/work/models/vit-gpt2-full', dtype, '/tmp/cc', console.log);
  const model = await OnnxCaptionModel.load(prepared, threads);
  const pixels = new Float32Array(3 * 224 * 224).map((_, i) => Math.sin(i));
  for (const [beams, images] of [[4, 1], [1, 1], [4, 1], [4, 4], [1, 8], [4, 8]]) {
    const items = Array.from({ length: images }, (_, i) => ({ id: String(i), pixels, options: { maxNewTokens: 15, minNewTokens: 15, numBeams: beams, lengthPenalty: 1, earlyStopping: false as const, noRepeatNgramSize: 0, repetitionPenalty: 1 } }));
    const t = performance.now(); let enc = 0;
    await generateBatch(model, items, { isCancelled: () => false, onResult: (r) => (enc = r.encoderMs), onCancelled: () => {}, yieldToEvents: async () => {} }, gatherRows);
    const ms = performance.now() - t;
    console.log(`${dtype} threads=${threads} beams=${beams} images=${images}: ${ms.toFixed(0)} ms total, ${(ms / images).toFixed(0)} ms/image, encoder+cross ${enc.toFixed(0)} ms`);
  }
  await model.release();
})();
