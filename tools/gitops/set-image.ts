// `kustomize edit set image NAME=NEW_NAME:TAG` on a kustomization.yaml, as a pure text edit.
// We do not shell out to kustomize: it is not packaged for Debian, and a YAML document edit
// keeps the file's comments and layout, so the bump commit's diff is exactly one line.
//
// Semantics kept from kustomize: the `images` entry is matched by `name`; `newName` and `newTag`
// are set; a `digest` on that entry is dropped (a tag and a digest together would make the tag a
// lie); a missing entry, or a missing `images` list, is created; other entries are untouched.
import { isMap, isSeq, parseDocument, YAMLMap, YAMLSeq } from 'yaml';

export interface ImageRef {
  name: string;
  newName?: string;
  newTag?: string;
  digest?: string;
}

// An immutable tag here is a git commit id (7 to 40 lowercase hex), which is what CI pushes.
const GIT_SHA = /^[0-9a-f]{7,40}$/;

export function assertImmutableTag(tag: string): void {
  if (!GIT_SHA.test(tag)) {
    throw new Error(
      `refusing tag "${tag}": only git commit ids (7-40 lowercase hex) are immutable tags here`,
    );
  }
}

function imagesSeq(doc: ReturnType<typeof parseDocument>, create: boolean): YAMLSeq | undefined {
  if (!isMap(doc.contents)) throw new Error('kustomization is not a YAML mapping');
  const images = doc.get('images');
  if (images === undefined || images === null) {
    if (!create) return undefined;
    const seq = new YAMLSeq();
    doc.set('images', seq);
    return seq;
  }
  if (!isSeq(images)) throw new Error('`images` in the kustomization is not a list');
  return images;
}

function findEntry(seq: YAMLSeq, name: string): YAMLMap | undefined {
  return seq.items.find((item): item is YAMLMap => isMap(item) && item.get('name') === name);
}

/** Reads the images entry `name` from kustomization text (undefined when absent). */
export function getImage(text: string, name: string): ImageRef | undefined {
  const doc = parseDocument(text);
  if (doc.errors.length) throw new Error(`invalid YAML: ${doc.errors[0].message}`);
  const seq = imagesSeq(doc, false);
  const entry = seq && findEntry(seq, name);
  if (!entry) return undefined;
  const str = (k: string) => {
    const v = entry.get(k);
    return v === undefined || v === null ? undefined : String(v);
  };
  return { name, newName: str('newName'), newTag: str('newTag'), digest: str('digest') };
}

/** Returns the kustomization text with image `name` pointing at `newName:newTag`. */
export function setImage(text: string, name: string, newName: string, newTag: string): string {
  assertImmutableTag(newTag);
  if (!newName || /[:@\s]/.test(newName.replace(/^[^/]+:\d+\//, ''))) {
    throw new Error(`invalid image name "${newName}" (no tag or digest in it)`);
  }
  const doc = parseDocument(text);
  if (doc.errors.length) throw new Error(`invalid YAML: ${doc.errors[0].message}`);
  const seq = imagesSeq(doc, true)!;
  let entry = findEntry(seq, name);
  if (!entry) {
    entry = new YAMLMap();
    entry.set('name', name);
    seq.add(entry);
  }
  entry.set('newName', newName);
  entry.set('newTag', newTag);
  entry.delete('digest');
  return doc.toString();
}
