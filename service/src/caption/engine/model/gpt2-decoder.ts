import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface TokenizerJson {
  model?: { type?: string; vocab?: Record<string, number> };
  added_tokens?: { id: number; content: string; special?: boolean }[];
  decoder?: { type?: string };
}

/**
 * Token ids to text for GPT-2's byte-level BPE, reading the model's own tokenizer.json.
 *
 * Decoding only needs the vocabulary and the byte-to-character table GPT-2 uses, a few dozen
 * lines; loading transformers.js in the inference worker for this cost about 80 MB of resident
 * memory (the library, its image stack and a full encoder-side tokenizer). The output is what
 * `tokenizer.decode(ids, skip_special_tokens=True)` gives in Python transformers 5 (which does not
 * apply the WordPiece-style space clean-up to BPE tokenizers), then trimmed, as the seed did;
 * a unit test checks it against transformers.js.
 */
export class Gpt2Decoder {
  private readonly tokens: string[] = [];
  private readonly special = new Set<number>();
  private readonly byteOf = byteDecoder();
  private readonly utf8 = new TextDecoder('utf-8');

  constructor(tokenizer: TokenizerJson) {
    if (
      tokenizer.model?.type !== 'BPE' ||
      !tokenizer.model.vocab ||
      tokenizer.decoder?.type !== 'ByteLevel'
    ) {
      throw new Error('tokenizer.json is not a byte-level BPE tokenizer (GPT-2 style)');
    }
    for (const [token, id] of Object.entries(tokenizer.model.vocab)) this.tokens[id] = token;
    for (const added of tokenizer.added_tokens ?? []) {
      this.tokens[added.id] = added.content;
      if (added.special) this.special.add(added.id);
    }
  }

  static fromModelDir(dir: string): Gpt2Decoder {
    return new Gpt2Decoder(
      JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as TokenizerJson,
    );
  }

  decode(ids: number[]): string {
    const bytes: number[] = [];
    for (const id of ids) {
      if (this.special.has(id)) continue;
      const token = this.tokens[id];
      if (token === undefined) throw new Error(`token id ${id} is not in the vocabulary`);
      for (const char of token) {
        const byte = this.byteOf.get(char);
        if (byte === undefined) {
          throw new Error(`token ${JSON.stringify(token)} has a character outside the byte table`);
        }
        bytes.push(byte);
      }
    }
    // Invalid UTF-8 (a character split across a cut-off caption) becomes U+FFFD, as Python's
    // errors="replace" does.
    return this.utf8.decode(Uint8Array.from(bytes)).trim();
  }
}

/**
 * GPT-2 writes every byte as a printable character: bytes that are printable Latin-1 map to
 * themselves, the other 68 to the characters from U+0100 on, in byte order. This inverts that.
 */
function byteDecoder(): Map<string, number> {
  const printable = (b: number) =>
    (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const map = new Map<string, number>();
  let next = 0;
  for (let b = 0; b < 256; b++) {
    map.set(String.fromCharCode(printable(b) ? b : 256 + next++), b);
  }
  return map;
}
