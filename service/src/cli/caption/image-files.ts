import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { UsageError } from './cli-options';

/**
 * File name endings searched for in folders: the formats the service accepts (the service still
 * decides by the bytes, so a file named on the command line is sent whatever its name).
 */
export const IMAGE_EXTENSIONS = new Set([
  '.jpg',
  '.jpeg',
  '.jpe',
  '.png',
  '.webp',
  '.gif',
  '.tif',
  '.tiff',
  '.avif',
]);

/**
 * The images to caption, in a stable order: files as given, folders searched recursively (in
 * name order, following symbolic links to files and folders, each real folder once). A path
 * that does not exist is bad usage.
 */
export async function findImages(inputs: string[]): Promise<string[]> {
  const found: string[] = [];
  const seenFolders = new Set<string>();
  for (const input of inputs) {
    const info = await stat(input).catch(() => undefined);
    if (!info) throw new UsageError(`${input}: no such file or folder`);
    if (info.isDirectory()) await walk(input, found, seenFolders);
    else found.push(input);
  }
  return [...new Set(found)];
}

async function walk(folder: string, found: string[], seen: Set<string>): Promise<void> {
  const { ino, dev } = await stat(folder);
  const id = `${dev}:${ino}`;
  if (seen.has(id)) return; // a link loop, or the same folder named twice
  seen.add(id);
  const entries = (await readdir(folder, { withFileTypes: true })).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  for (const entry of entries) {
    const path = join(folder, entry.name);
    // Dirent says "symbolic link", not what it points to.
    const info = entry.isSymbolicLink() ? await stat(path).catch(() => undefined) : entry;
    if (!info) continue; // a dangling link
    if (info.isDirectory()) {
      await walk(path, found, seen);
    } else if (info.isFile() && IMAGE_EXTENSIONS.has(extname(entry.name).toLowerCase())) {
      found.push(path);
    }
  }
}
