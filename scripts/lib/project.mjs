// Reads project facts that live in TypeScript sources (single source of truth) from the plain-Node scripts.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

async function load(root, file) {
  const { tsImport } = await import('tsx/esm/api');
  const mod = await tsImport(pathToFileURL(join(root, file)).href, import.meta.url);
  return mod.default && !('searchAttributes' in mod) ? mod.default : mod;
}

/** Every search attribute the flows set (the flows registry), for registering on the namespace. */
export async function loadSearchAttributes(root) {
  return (await load(root, 'src/flows/index.ts')).searchAttributes;
}
