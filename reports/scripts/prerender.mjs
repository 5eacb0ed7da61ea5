// Prerenders the already compiled Evidence app again with the current data, without compiling it again.
//
// `evidence build` compiles the app (Vite: the server and client bundles: about a minute and more than 1.5 GB of
// Node heap, whatever the data) and then prerenders the pages, which runs their queries on the parquet files that
// `evidence sources` wrote. Only the prerender depends on the data, so when the pages, the packages and the build
// options are those of the last compile, strava.py runs this instead: the same SvelteKit steps `vite build` runs
// after compiling (analyse the routes, prerender), on the compiled output it left in .svelte-kit/output.
//
// Run in .evidence/template with the environment `evidence build` gives Vite. Writes
// .svelte-kit/output/prerendered; strava.py then assembles the site like adapter-static and Evidence do.
// Uses SvelteKit internals (@sveltejs/kit 2.8.4, src/exports/vite/index.js: writeBundle and adapter-static): a
// new version of @sveltejs/kit changes package-lock.json, and with it the key that lets strava.py skip the compile.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const kitEntry = new URL(import.meta.resolve('@sveltejs/kit'));
const kitSrc = path.resolve(path.dirname(kitEntry.pathname), '..');
const kitModule = (file) => import(pathToFileURL(path.join(kitSrc, file)).href);

const { load_config } = await kitModule('core/config/index.js');
const { default: create_manifest_data } = await kitModule('core/sync/create_manifest_data/index.js');
const { default: analyse } = await kitModule('core/postbuild/analyse.js');
const { default: prerender } = await kitModule('core/postbuild/prerender.js');
const { get_env } = await kitModule('exports/vite/utils.js');

const config = await load_config();
const out = path.join(config.kit.outDir, 'output');
const manifest_path = path.join(out, 'server', 'manifest-full.js');
for (const needed of [manifest_path, path.join(out, 'client'), path.join(out, 'server', 'index.js')]) {
	if (!fs.existsSync(needed)) {
		console.error(`no compiled app: ${needed} is missing`);
		process.exit(3);
	}
}
const manifest_data = create_manifest_data({ config });
const server_manifest = JSON.parse(fs.readFileSync(path.join(out, 'server', '.vite', 'manifest.json'), 'utf8'));
const { public: publicEnv, private: privateEnv } = get_env(config.kit.env, 'production');
const env = { ...privateEnv, ...publicEnv };

const metadata = await analyse({ manifest_path, manifest_data, server_manifest, tracked_features: {}, env });
fs.rmSync(path.join(out, 'prerendered'), { recursive: true, force: true });
const { prerendered } = await prerender({ out, manifest_path, metadata, verbose: false, env });
// what adapter-static's generateEnvModule adds to the prerendered files
const envModule = path.join(out, 'prerendered', 'dependencies', config.kit.appDir, 'env.js');
fs.mkdirSync(path.dirname(envModule), { recursive: true });
fs.writeFileSync(envModule, `export const env=${JSON.stringify(publicEnv)}`);
console.log(`Prerendered ${prerendered.paths.length} paths`);
