import { createServer, type Server } from 'node:http';
import { imageExists } from './image-exists';

// A registry that knows one tag, and checks the method, path, Accept and Basic credentials.
let server: Server;
const seen: Array<{ method?: string; url?: string; accept?: string }> = [];
const PORT = 31051; // this helper's port range

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ method: req.method, url: req.url, accept: req.headers.accept });
    const auth = Buffer.from('_json_key_base64:secret').toString('base64');
    if (req.headers.authorization !== `Basic ${auth}`) res.writeHead(401);
    else if (req.url === '/v2/p/caption/caption-service/manifests/abc1234') res.writeHead(200);
    else res.writeHead(404);
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(PORT, '127.0.0.1', resolve));
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const opts = (tag: string, password = 'secret') => ({
  repo: `127.0.0.1:${PORT}/p/caption/caption-service`,
  tag,
  user: '_json_key_base64',
  password,
  scheme: 'http' as const,
});

describe('imageExists', () => {
  it('finds a pushed tag with a HEAD on its manifest, and not an unknown one', async () => {
    await expect(imageExists(opts('abc1234'))).resolves.toEqual({ exists: true, status: 200 });
    await expect(imageExists(opts('def5678'))).resolves.toEqual({ exists: false, status: 404 });
    expect(seen[0]).toEqual({
      method: 'HEAD',
      url: '/v2/p/caption/caption-service/manifests/abc1234',
      accept: expect.stringContaining('application/vnd.oci.image.index.v1+json'),
    });
  });

  it('fails loudly on refused credentials instead of reporting "not found"', async () => {
    await expect(imageExists(opts('abc1234', 'wrong'))).rejects.toThrow(
      /refused the credentials \(401\)/,
    );
  });
});
