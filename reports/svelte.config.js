// Merged by Evidence into its SvelteKit config (.evidence/template/svelte.config.js).
// Prerendering renders one page at a time by default; most of a page's time is spent waiting on its queries and
// file writes, so several at once make a site with thousands of activity pages build several times faster.
export default {
	kit: {
		prerender: {
			concurrency: 4
		}
	}
};
