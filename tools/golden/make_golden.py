#!/usr/bin/env python3
"""Reference outputs for the parity tests, from the Python stack users run today.

Writes, for the fixture images, what PyTorch/transformers/PIL produce on the same weights as the
committed tiny ONNX fixture model:

  <out>/images/*            test images derived from the vendored photos (greyscale, alpha,
                            palette, 16-bit, EXIF-rotated), so both stacks read the same bytes
  <out>/reference-224/*.png the 224x224 RGB image the reference preprocessing feeds the encoder
                            (EXIF applied, converted to RGB, PIL bilinear resize)
  <out>/<name>.json         token ids of `model.generate` for several decoding settings, each
                            image captioned alone and all of them in one batch; with
                            num_return_sequences, every returned sequence in rank order, and for
                            every returned sequence its confidence (see confidence())

Dev tool only: needs the peer venv (../shared/peer/setup-peer-venv.sh) and the tiny model built
with its PyTorch weights (see service/test/fixtures/models/vit-gpt2-tiny/README.md). Never run by
the tests. Usage:
  $PY tools/golden/make_golden.py --model /tmp/vit-gpt2-tiny --fixtures service/test/fixtures
  $PY tools/golden/make_golden.py --model /tmp/vit-gpt2-tiny-eos --fixtures service/test/fixtures \\
      --settings eos --name golden-eos
"""
import argparse
import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps
from transformers import VisionEncoderDecoderModel

try:
    from transformers import ViTImageProcessorPil as Processor
except ImportError:
    from transformers import ViTImageProcessor as Processor

# Decoding settings covered by the golden ids. "seed" is the seed service's own call.
DEFAULT_SETTINGS = {
    "greedy": dict(max_new_tokens=15, num_beams=1),
    "seed": dict(max_length=16, num_beams=4),
    "beams_full_length": dict(max_new_tokens=15, min_new_tokens=15, num_beams=4),
    "beams_penalties": dict(
        max_new_tokens=12,
        min_new_tokens=3,
        num_beams=3,
        length_penalty=0.6,
        no_repeat_ngram_size=2,
        repetition_penalty=1.3,
        early_stopping=True,
    ),
    "beams_never": dict(max_new_tokens=10, num_beams=5, length_penalty=1.5, early_stopping="never"),
    "greedy_penalties": dict(max_new_tokens=20, num_beams=1, repetition_penalty=1.5, no_repeat_ngram_size=3),
    # Several captions per image: every finished hypothesis, in generate's order.
    "seed_return_4": dict(max_length=16, num_beams=4, num_return_sequences=4),
    "beams_penalties_return_2": dict(
        max_new_tokens=12,
        min_new_tokens=3,
        num_beams=3,
        length_penalty=0.6,
        no_repeat_ngram_size=2,
        repetition_penalty=1.3,
        early_stopping=True,
        num_return_sequences=2,
    ),
}
# For a model whose end-of-text is likely (random tiny models either stop at once or never):
# greedy stops at the first step, and beam search keeps those finished hypotheses while it goes on.
EOS_SETTINGS = {
    "greedy": dict(max_new_tokens=15, num_beams=1),
    "seed": dict(max_length=16, num_beams=4),
    "beams_min_new_early": dict(max_new_tokens=15, min_new_tokens=3, num_beams=4, early_stopping=True),
    "beams_negative_length_penalty": dict(max_new_tokens=12, num_beams=3, length_penalty=-0.5),
    # Finished hypotheses of different lengths returned together.
    "beams_min_new_early_return_3": dict(
        max_new_tokens=15, min_new_tokens=3, num_beams=4, early_stopping=True, num_return_sequences=3
    ),
    "beams_never_return_5": dict(max_new_tokens=10, num_beams=5, early_stopping="never", num_return_sequences=5),
}
SETTING_SETS = {"default": DEFAULT_SETTINGS, "eos": EOS_SETTINGS}


def derived_images(photos: Path, out: Path):
    """Small variants of a vendored photo in the colour modes the intake must handle."""
    out.mkdir(parents=True, exist_ok=True)
    base = Image.open(photos / "china.jpg").convert("RGB")
    small = base.resize((320, 213), Image.BILINEAR)
    small.convert("L").save(out / "china-grey.png")
    rgba = small.copy()
    rgba.putalpha(Image.linear_gradient("L").resize(small.size))
    rgba.save(out / "china-rgba.png")
    small.quantize(colors=64).save(out / "china-palette.png")
    grey16 = Image.fromarray((np.asarray(small.convert("L"), dtype=np.uint16) * 257).astype(np.uint16))
    grey16.save(out / "china-grey16.png")
    # Stored rotated, with EXIF orientation 6 ("rotate 90 CW to display").
    exif = Image.Exif()
    exif[0x0112] = 6
    small.transpose(Image.Transpose.ROTATE_90).save(out / "china-exif6.jpg", exif=exif, quality=92)


def reference_rgb(path: Path) -> Image.Image:
    image = Image.open(path)
    image = ImageOps.exif_transpose(image)
    if image.mode == "I;16":
        # PIL's I;16 -> RGB clips instead of scaling; scale to 8 bits as a viewer shows it.
        image = Image.fromarray((np.asarray(image, dtype=np.uint32) >> 8).astype(np.uint8))
    return image.convert("RGB")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, type=Path, help="tiny model folder with model.safetensors")
    ap.add_argument("--fixtures", required=True, type=Path, help="service/test/fixtures")
    ap.add_argument("--settings", choices=sorted(SETTING_SETS), default="default")
    ap.add_argument("--name", default="golden", help="writes <fixtures>/golden/<name>.json")
    args = ap.parse_args()
    settings = SETTING_SETS[args.settings]

    torch.manual_seed(0)
    photos = args.fixtures / "images"
    golden_dir = args.fixtures / "golden"
    if not (golden_dir / "images").is_dir():
        derived_images(photos, golden_dir / "images")
    processor = Processor.from_pretrained(args.model)
    model = VisionEncoderDecoderModel.from_pretrained(args.model).eval()

    sources = sorted(photos.glob("*.jpg")) + sorted((golden_dir / "images").glob("*"))
    ref_dir = golden_dir / "reference-224"
    ref_dir.mkdir(parents=True, exist_ok=True)
    names = []
    for path in sources:
        size = (processor.size["width"], processor.size["height"])
        resized = reference_rgb(path).resize(size, Image.BILINEAR)
        resized.save(ref_dir / f"{path.stem}.png")
        names.append(path.stem)

    # Parity is about decoding, so both stacks get exactly the same 224x224 pixels.
    refs = [Image.open(ref_dir / f"{n}.png").convert("RGB") for n in names]
    pixel_values = processor(images=refs, return_tensors="pt").pixel_values
    results = {}
    with torch.inference_mode():
        for label, kwargs in settings.items():
            returned = kwargs.get("num_return_sequences", 1)
            alone = {}
            for i, name in enumerate(names):
                rows = model.generate(pixel_values[i : i + 1], **kwargs).tolist()
                alone[name] = [trim(row) for row in rows]
            batched = model.generate(pixel_values, **kwargs).tolist()
            for i, name in enumerate(names):
                rows = [trim(row) for row in batched[i * returned : (i + 1) * returned]]
                if rows != alone[name]:
                    raise SystemExit(f"{label}/{name}: batched generate differs from single")
            results[label] = {
                "options": kwargs,
                "ids": {n: alone[n][0] for n in names},
                "sequences": {n: alone[n] for n in names},
                "confidences": {
                    n: [confidence(model, pixel_values[i : i + 1], seq) for seq in alone[n]]
                    for i, n in enumerate(names)
                },
            }
    import transformers

    golden = {
        "generator": "tools/golden/make_golden.py",
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "model": str(json.loads((args.model / "config.json").read_text()).get("_name_or_path")),
        "decoder_start_token_id": int(model.config.decoder_start_token_id),
        "eos_token_id": int(model.config.eos_token_id),
        "images": names,
        "settings": results,
    }
    (golden_dir / f"{args.name}.json").write_text(json.dumps(golden, indent=1) + "\n")
    print(f"wrote {golden_dir}/{args.name}.json: {len(names)} images x {len(settings)} settings")


EOS = 50256


def confidence(model, pixel_values, sequence):
    """exp of the mean log-probability the model gives each generated token (end-of-text
    included), from its raw next-token distribution: the decoder re-run on the sequence (teacher
    forcing), log_softmax of its logits. Independent of the search that produced the sequence."""
    start = model.config.decoder_start_token_id
    decoder_input = torch.tensor([[start] + sequence[:-1]])
    logits = model(pixel_values=pixel_values, decoder_input_ids=decoder_input).logits[0]
    log_probs = torch.log_softmax(logits.double(), dim=-1)
    picked = log_probs[torch.arange(len(sequence)), torch.tensor(sequence)]
    return float(torch.exp(picked.mean()))


def trim(ids):
    """Generated ids after the start token, up to and including the first end-of-text."""
    out = []
    for token in ids[1:]:
        out.append(int(token))
        if token == EOS:
            break
    return out


if __name__ == "__main__":
    main()
