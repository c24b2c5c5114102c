import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';

/**
 * The worker process runs plain JavaScript on plain `node`: a TypeScript loader (tsx) in it
 * would add ~30 MB of RSS and a loader thread to every peer's memory and CPU figures. So
 * the sources are transpiled once per run, file by file (their imports already name `.js`
 * files), into `.cache/worker` inside the app, where the app's node_modules resolve.
 */
let built: Promise<string> | undefined;

export function workerEntry(srcDir: string, outDir: string): Promise<string> {
  built ??= transpileTree(srcDir, outDir).then(() => join(outDir, 'child.js'));
  return built;
}

async function transpileTree(srcDir: string, outDir: string): Promise<void> {
  const files = (await readdir(srcDir, { recursive: true })).filter(
    (f) => f.endsWith('.ts') && !f.endsWith('.d.ts'),
  );
  await Promise.all(
    files.map(async (file) => {
      const source = await readFile(join(srcDir, file), 'utf8');
      const { outputText } = ts.transpileModule(source, {
        fileName: file,
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, sourceMap: false },
      });
      const out = join(outDir, relative(srcDir, join(srcDir, file)).replace(/\.ts$/, '.js'));
      await mkdir(dirname(out), { recursive: true });
      await writeFile(out, outputText);
    }),
  );
  // Marks the folder as ESM whatever the nearest package.json says.
  await writeFile(join(outDir, 'package.json'), '{ "type": "module" }\n');
}
