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
  return (await load(root, 'src/workflows/index.ts')).searchAttributes;
}

/**
 * Process settings for worker processes (dev, chaos, bench; the image sets the same): a 2 MB young generation and two
 * malloc arenas keep a worker holding 200 cached flows under 300 MB RSS at no measurable CPU cost (bench/NOTES.md,
 * memory section).
 */
export function workerProcessEnv(env = process.env) {
  return { MALLOC_ARENA_MAX: '2', NODE_OPTIONS: `${env.NODE_OPTIONS ?? ''} --max-semi-space-size=2`.trim() };
}
