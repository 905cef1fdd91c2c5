// Whether an image tag exists in its registry, through the registry's v2 API (a HEAD on the
// manifest answers 200 only for a pushed tag). The promotion job runs it before asking for
// approval, so production is never pointed at an image that was not built.
//
//   IMAGE_REPO=host/path/name REGISTRY_USER=... REGISTRY_PASSWORD=... \
//     ts-node --transpile-only tools/gitops/image-exists.ts <tag>
const ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export async function imageExists(opts: {
  repo: string;
  tag: string;
  user: string;
  password: string;
  /** Scheme for the registry host (https; the spec's local registry speaks http). */
  scheme?: 'https' | 'http';
}): Promise<{ exists: boolean; status: number }> {
  const [host, ...path] = opts.repo.split('/');
  if (!host || !path.length) throw new Error(`"${opts.repo}" is not host/path/name`);
  const auth = Buffer.from(`${opts.user}:${opts.password}`).toString('base64');
  const url = `${opts.scheme ?? 'https'}://${host}/v2/${path.join('/')}/manifests/${encodeURIComponent(opts.tag)}`;
  const r = await fetch(url, {
    method: 'HEAD',
    headers: { Authorization: `Basic ${auth}`, Accept: ACCEPT },
  });
  if (r.status === 401 || r.status === 403) {
    throw new Error(`the registry refused the credentials (${r.status}) for ${opts.repo}`);
  }
  return { exists: r.ok, status: r.status };
}

if (require.main === module) {
  const tag = process.argv[2];
  const env = (name: string) => {
    const v = process.env[name];
    if (!v) throw new Error(`${name} is not set`);
    return v;
  };
  Promise.resolve()
    .then(() =>
      imageExists({
        repo: env('IMAGE_REPO'),
        tag,
        user: env('REGISTRY_USER'),
        password: env('REGISTRY_PASSWORD'),
      }),
    )
    .then(
      ({ exists, status }) => {
        console.log(
          `${process.env.IMAGE_REPO}:${tag}: ${exists ? 'exists' : `not found (${status})`}`,
        );
        process.exit(exists ? 0 : 1);
      },
      (e: Error) => {
        console.error(`image-exists: ${e.message}`);
        process.exit(2);
      },
    );
}
