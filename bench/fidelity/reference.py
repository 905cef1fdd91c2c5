#!/usr/bin/env python3
"""PyTorch fp32 reference for the bench's fidelity part (run by bench/fidelity/fidelity.ts).

For each image: the reference preprocessing (EXIF applied, RGB, PIL bilinear resize to the
model's size), written as raw 8-bit RGB so our engine gets exactly the same pixels; then for
each beam count, the token ids of `model.generate(max_new_tokens=N, num_beams=B)` and the
logits PyTorch computes along that sequence (teacher forcing: the decoder reads the start token
and the generated ids, one logits row per generated token), written as float32.

Usage: python reference.py --model DIR --out DIR --new-tokens 15 --beams 1,4 IMAGE...
Writes DIR/reference.json describing the files it wrote.
"""
import argparse
import json
from pathlib import Path

import numpy as np
import torch
import transformers
from PIL import Image, ImageOps
from transformers import VisionEncoderDecoderModel

try:
    from transformers import ViTImageProcessorPil as Processor
except ImportError:
    from transformers import ViTImageProcessor as Processor


def trim(ids, eos):
    """Generated ids after the start token, up to and including the first end-of-text."""
    out = []
    for token in ids[1:]:
        out.append(int(token))
        if token == eos:
            break
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--new-tokens", type=int, default=15)
    ap.add_argument("--beams", default="1,4")
    ap.add_argument("images", nargs="+", type=Path)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    torch.manual_seed(0)
    processor = Processor.from_pretrained(args.model)
    model = VisionEncoderDecoderModel.from_pretrained(args.model).eval()
    start = int(model.config.decoder_start_token_id)
    eos = int(model.config.eos_token_id)
    size = (processor.size["width"], processor.size["height"])

    images = []
    with torch.inference_mode():
        for path in args.images:
            rgb = ImageOps.exif_transpose(Image.open(path)).convert("RGB").resize(size, Image.BILINEAR)
            rgb_file = args.out / f"{path.stem}.rgb"
            rgb_file.write_bytes(np.asarray(rgb, dtype=np.uint8).tobytes())
            pixel_values = processor(images=[rgb], return_tensors="pt").pixel_values
            decodings = {}
            for beams in [int(b) for b in args.beams.split(",")]:
                generated = model.generate(
                    pixel_values, max_new_tokens=args.new_tokens, num_beams=beams, do_sample=False
                )
                ids = trim(generated[0].tolist(), eos)
                decoder_input = torch.tensor([[start] + ids[:-1]])
                logits = model(pixel_values=pixel_values, decoder_input_ids=decoder_input).logits[0]
                logits_file = args.out / f"{path.stem}.beams{beams}.logits.f32"
                logits_file.write_bytes(logits.float().numpy().astype("<f4").tobytes())
                decodings[str(beams)] = {"ids": ids, "logits": logits_file.name}
            images.append({"name": path.name, "rgb": rgb_file.name, "decodings": decodings})

    (args.out / "reference.json").write_text(
        json.dumps(
            {
                "torch": torch.__version__,
                "transformers": transformers.__version__,
                "width": size[0],
                "height": size[1],
                "vocab": int(model.config.decoder.vocab_size),
                "images": images,
            },
            indent=1,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
