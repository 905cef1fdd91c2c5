"""Runs huggingface_hub's InferenceClient.image_to_text against a URL, unmodified, and prints
what the user of the client would get as one JSON line: the output, or the exception raised.

    python hf_image_to_text.py ENDPOINT_URL IMAGE_PATH [bytes]

With `bytes`, the image is passed as raw bytes (no Content-Type is sent) instead of a path.
"""

import json
import sys

import huggingface_hub
from huggingface_hub import InferenceClient


def main() -> None:
    url, image_path = sys.argv[1], sys.argv[2]
    image = open(image_path, "rb").read() if sys.argv[3:] == ["bytes"] else image_path
    result = {"version": huggingface_hub.__version__}
    try:
        output = InferenceClient(model=url).image_to_text(image)
        result.update(type=type(output).__name__, generated_text=output.generated_text)
    except Exception as error:  # the test reads what a user would see
        result.update(error=type(error).__name__, message=str(error))
        response = getattr(error, "response", None)
        if response is not None:
            result["status"] = response.status_code
    print(json.dumps(result))


if __name__ == "__main__":
    main()
