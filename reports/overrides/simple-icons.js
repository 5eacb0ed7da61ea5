// Stands in for @steeze-ui/simple-icons (svelte.config.js aliases it here). Evidence's header imports four brand
// icons from it, but its settings page imports the whole package by namespace, so Vite put all 3,000 icons
// (4.8 MB of JavaScript) in a chunk every page loaded. Named re-exports let the bundler keep only these four; the
// settings page is not part of the built site.
export { Bluesky, Github, Slack, X } from '../node_modules/@steeze-ui/simple-icons/dist/index.js';
