/** Which files a command's DOCS arguments name: files as given, folders searched recursively. */
import fs from 'node:fs';
import path from 'node:path';
import { TypedError } from '../core/errors';

/** The formats the parsers read; a folder yields these unless --include globs say otherwise. */
export const DOCUMENT_EXTENSIONS: readonly string[] = ['.pdf', '.docx', '.pptx', '.xlsx'];

export interface FoundDocument {
  /** Absolute path. */
  path: string;
  /** Path under the folder it was found in; the file's name when it was named itself. */
  relative: string;
}

/** A glob without '/' matches a file's name at any depth (like ripgrep's -g); with '/', its path under the folder. */
function included(relative: string, include: readonly string[]): boolean {
  if (include.length === 0) return DOCUMENT_EXTENSIONS.includes(path.extname(relative).toLowerCase());
  return include.some((glob) => path.matchesGlob(glob.includes('/') ? relative : path.basename(relative), glob));
}

/**
 * One argument's documents: a file as given, or the files under a folder (recursively, sorted) that
 * `include` selects. A path that does not exist is a typed FileNotFound.
 */
export function findDocuments(arg: string, include: readonly string[] = []): FoundDocument[] {
  const absolute = path.resolve(arg);
  const stat = fs.statSync(absolute, { throwIfNoEntry: false });
  if (!stat) throw new TypedError('FileNotFound', `no such file or folder: ${arg}`, { path: arg });
  if (!stat.isDirectory()) return [{ path: absolute, relative: path.basename(absolute) }];
  return fs
    .readdirSync(absolute, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(absolute, path.join(entry.parentPath, entry.name)))
    .filter((relative) => included(relative, include))
    .sort()
    .map((relative) => ({ path: path.join(absolute, relative), relative }));
}
