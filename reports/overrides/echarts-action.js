// Stands in for @evidence-dev/component-utilities/echarts (svelte.config.js aliases it here): Evidence's chart
// action, drawing a chart once per burst of changes. Svelte calls an action's update each time a prop of the chart
// changes, and while a page starts a chart's props settle in several steps (its data, then the columns, colours,
// units...): each chart was drawn four times (setOption without merge, then a resize) in the page's first task. The
// draw now waits for the end of the task (a message to itself: unlike a timer, not slowed in a background tab) and
// draws only the last options.
import echartsAction from '../node_modules/@evidence-dev/component-utilities/src/echarts.js';

const pending = new Set();
let channel;

function drawPending() {
	const charts = [...pending];
	pending.clear();
	for (const chart of charts) chart();
}

function afterThisTask(draw) {
	if (!channel) {
		channel = new MessageChannel();
		channel.port1.onmessage = drawPending;
	}
	if (pending.size === 0) channel.port2.postMessage(null);
	pending.add(draw);
}

export default function drawOncePerBurst(node, options) {
	let latest = options;
	let action;
	let destroyed = false;
	const draw = () => {
		if (destroyed) return;
		if (action) action.update(latest);
		else action = echartsAction(node, latest);
	};
	afterThisTask(draw);
	return {
		update(next) {
			latest = next;
			afterThisTask(draw);
		},
		destroy() {
			destroyed = true;
			pending.delete(draw);
			action?.destroy();
		}
	};
}
