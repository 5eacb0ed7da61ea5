// Merged by Evidence into its SvelteKit config (.evidence/template/svelte.config.js).
import { fileURLToPath } from 'node:url';

const override = (file) => fileURLToPath(new URL(`./overrides/${file}`, import.meta.url));

export default {
	kit: {
		// Prerendering renders one page at a time by default; most of a page's time is spent waiting on its queries
		// and file writes, so several at once make a site with thousands of activity pages build several times faster.
		prerender: {
			concurrency: 4
		},
		// what the pages load, made lighter (see each file): every page opens faster
		alias: {
			'@steeze-ui/simple-icons': override('simple-icons.js'),
			echarts: override('echarts.js'),
			'@evidence-dev/component-utilities/echarts': override('echarts-action.js')
		}
	}
};
