// Reads project facts that live in TypeScript sources (single source of truth) from the plain-Node scripts.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export async function loadSearchAttributes(root) {
  const { tsImport } = await import('tsx/esm/api');
  const mod = await tsImport(pathToFileURL(join(root, 'src/shared/names.ts')).href, import.meta.url);
  return (mod.searchAttributes ?? mod.default?.searchAttributes);
}
