const sharp = require('sharp');
const cmp = (r, d) => { let max = 0, sum = 0; for (let i = 0; i < r.length; i++) { const x = Math.abs(r[i] - d[i]); max = Math.max(max, x); sum += x; } return `max ${max} mean ${(sum / r.length).toFixed(3)} len ${r.length === d.length}`; };
(async () => {
  const src = 'service/test/fixtures/golden/images/china-grey.png';
  const up = await sharp('/tmp/up.png').raw().toBuffer();
  const both = await sharp('/tmp/both.png').raw().toBuffer();
  const sy = 224 / 213;
  for (const [idy, ody] of [[0, 0], [0.5, -0.5], [0, (sy - 1) / 2], [-0.5, 0.5]]) {
    const d = await sharp(src).toColourspace('srgb').affine([[1, 0], [0, sy]], { idx: 0, idy, odx: 0, ody, interpolator: sharp.interpolators.bilinear }).raw().toBuffer({ resolveWithObject: true });
    console.log('affine up only', idy, ody, d.info.width, d.info.height, cmp(up, d.data.subarray(0, up.length)));
  }
  // two-step: shrink x via resize, then enlarge y via affine
  const d2 = await sharp(src).toColourspace('srgb').resize(224, 213, { fit: 'fill', kernel: 'linear' }).affine([[1, 0], [0, sy]], { idy: 0.5, ody: -0.5, interpolator: sharp.interpolators.bilinear }).raw().toBuffer({ resolveWithObject: true });
  console.log('resize+affine one pipeline', d2.info.width, d2.info.height, cmp(both, d2.data));
  const mid = await sharp(src).toColourspace('srgb').resize(224, 213, { fit: 'fill', kernel: 'linear' }).raw().toBuffer({ resolveWithObject: true });
  const d3 = await sharp(mid.data, { raw: mid.info }).affine([[1, 0], [0, sy]], { idy: 0.5, ody: -0.5, interpolator: sharp.interpolators.bilinear }).raw().toBuffer({ resolveWithObject: true });
  console.log('two pipelines', d3.info.width, d3.info.height, cmp(both, d3.data));
})();
