import { engineInfo } from '../../test/support/fake-engine';
import { servedModelId } from './model-status.service';

const info = (modelDir: string, revision: string) => engineInfo({ modelDir, revision });

describe('servedModelId', () => {
  it('names a pinned hub revision by its hub id', () => {
    const dir = '/cache/models/Xenova/vit-gpt2-image-captioning/' + 'a'.repeat(40);
    expect(servedModelId('Xenova/vit-gpt2-image-captioning', info(dir, 'a'.repeat(40)))).toBe(
      'Xenova/vit-gpt2-image-captioning',
    );
  });

  it('names an unpinned folder by its name, not by MODEL_ID', () => {
    expect(
      servedModelId(
        'Xenova/vit-gpt2-image-captioning',
        info('/work/models/vit-gpt2-random', 'local'),
      ),
    ).toBe('vit-gpt2-random');
  });
});
