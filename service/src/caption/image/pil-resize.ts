import sharp, { Sharp } from 'sharp';

export interface Size {
  width: number;
  height: number;
}

export interface RawImage {
  data: Buffer;
  info: { width: number; height: number; channels: 1 | 2 | 3 | 4 };
}

/**
 * PIL's bilinear resize, per axis. Shrinking widens the triangle filter by the scale factor,
 * which libvips' reduce with the linear kernel also does. Enlarging interpolates between pixel
 * centres with edge pixels repeated; sharp's resize aligns corners instead (half a pixel off)
 * and its affine transform fills outside the image with black, so enlarged axes are shrunk to
 * nothing here and enlarged afterwards by enlargeLikePil, on the already small image.
 */
export function shrinkLikePil(pipeline: Sharp, source: Size, target: Size): Sharp {
  const shrunk = shrunkSize(source, target);
  if (shrunk.width === source.width && shrunk.height === source.height) return pipeline;
  return pipeline.resize(shrunk.width, shrunk.height, { fit: 'fill', kernel: 'linear' });
}

/** The size after shrinking: the target on axes that shrink, the source on axes that grow. */
export function shrunkSize(source: Size, target: Size): Size {
  return {
    width: Math.min(source.width, target.width),
    height: Math.min(source.height, target.height),
  };
}

/**
 * Enlarges the axes still below the target the way PIL does: output pixel X samples the input
 * at (X + 0.5) / scale - 0.5, edges repeated. The input is at most the target size, so this
 * works on a few hundred KB at most. Each axis is padded with copies of its edge pixels,
 * transformed with centre offsets, and cropped.
 */
export async function enlargeLikePil(image: RawImage, target: Size): Promise<RawImage> {
  const { width, height } = image.info;
  if (width >= target.width && height >= target.height) return image;
  const padX = width < target.width ? 1 : 0;
  const padY = height < target.height ? 1 : 0;
  const padded = await sharp(image.data, { raw: image.info })
    .extend({ left: padX, right: padX, top: padY, bottom: padY, extendWith: 'copy' })
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  const enlarged = await sharp(padded.data, { raw: padded.info })
    .affine(
      [
        [target.width / width, 0],
        [0, target.height / height],
      ],
      {
        idx: 0.5 - padX,
        idy: 0.5 - padY,
        odx: -0.5,
        ody: -0.5,
        interpolator: sharp.interpolators.bilinear,
      },
    )
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  return {
    data: cropTopLeft(enlarged, target),
    info: { ...target, channels: enlarged.info.channels },
  };
}

function cropTopLeft(image: RawImage, size: Size): Buffer {
  const { width, channels } = image.info;
  if (image.info.width < size.width || image.info.height < size.height) {
    throw new Error(
      `enlarged to ${image.info.width}x${image.info.height}, short of ${size.width}x${size.height}`,
    );
  }
  const out = Buffer.alloc(size.width * size.height * channels);
  for (let y = 0; y < size.height; y++) {
    image.data.copy(
      out,
      y * size.width * channels,
      y * width * channels,
      (y * width + size.width) * channels,
    );
  }
  return out;
}
