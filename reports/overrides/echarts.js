// Stands in for the package entry of echarts (svelte.config.js aliases `echarts` here): the entry registers every
// chart type and component echarts has (maps, graphs, 3-D-like gauges, timelines...), about 1 MB of JavaScript that
// every page loaded. This registers what Evidence's charts draw with: bar, line, scatter, pie, box, heatmap and custom
// series, on a grid, polar or calendar, with their tooltips, legends, titles, markers, zoom, visual maps and
// datasets. The rest of the API (init, connect, registerTheme, registerMap, throttle...) is the package's own.
import { use } from '../node_modules/echarts/lib/extension.js';
import { install as LineChart } from '../node_modules/echarts/lib/chart/line/install.js';
import { install as BarChart } from '../node_modules/echarts/lib/chart/bar/install.js';
import { install as ScatterChart } from '../node_modules/echarts/lib/chart/scatter/install.js';
import { install as PieChart } from '../node_modules/echarts/lib/chart/pie/install.js';
import { install as BoxplotChart } from '../node_modules/echarts/lib/chart/boxplot/install.js';
import { install as HeatmapChart } from '../node_modules/echarts/lib/chart/heatmap/install.js';
import { install as CustomChart } from '../node_modules/echarts/lib/chart/custom/install.js';
import { install as GridComponent } from '../node_modules/echarts/lib/component/grid/install.js';
import { install as PolarComponent } from '../node_modules/echarts/lib/component/polar/install.js';
import { install as CalendarComponent } from '../node_modules/echarts/lib/component/calendar/install.js';
import { install as GraphicComponent } from '../node_modules/echarts/lib/component/graphic/install.js';
import { install as ToolboxComponent } from '../node_modules/echarts/lib/component/toolbox/install.js';
import { install as TooltipComponent } from '../node_modules/echarts/lib/component/tooltip/install.js';
import { install as AxisPointerComponent } from '../node_modules/echarts/lib/component/axisPointer/install.js';
import { install as TitleComponent } from '../node_modules/echarts/lib/component/title/install.js';
import { install as MarkPointComponent } from '../node_modules/echarts/lib/component/marker/installMarkPoint.js';
import { install as MarkLineComponent } from '../node_modules/echarts/lib/component/marker/installMarkLine.js';
import { install as MarkAreaComponent } from '../node_modules/echarts/lib/component/marker/installMarkArea.js';
import { install as LegendComponent } from '../node_modules/echarts/lib/component/legend/install.js';
import { install as DataZoomComponent } from '../node_modules/echarts/lib/component/dataZoom/install.js';
import { install as VisualMapComponent } from '../node_modules/echarts/lib/component/visualMap/install.js';
import { install as AriaComponent } from '../node_modules/echarts/lib/component/aria/install.js';
import { install as DatasetComponent } from '../node_modules/echarts/lib/component/dataset/install.js';
import { install as TransformComponent } from '../node_modules/echarts/lib/component/transform/install.js';
import { installUniversalTransition } from '../node_modules/echarts/lib/animation/universalTransition.js';
import { installLabelLayout } from '../node_modules/echarts/lib/label/installLabelLayout.js';
import { install as SVGRenderer } from '../node_modules/echarts/lib/renderer/installSVGRenderer.js';
import { install as CanvasRenderer } from '../node_modules/echarts/lib/renderer/installCanvasRenderer.js';

export * from '../node_modules/echarts/lib/export/core.js';

use([
	LineChart,
	BarChart,
	ScatterChart,
	PieChart,
	BoxplotChart,
	HeatmapChart,
	CustomChart,
	GridComponent,
	PolarComponent,
	CalendarComponent,
	GraphicComponent,
	ToolboxComponent,
	TooltipComponent,
	AxisPointerComponent,
	TitleComponent,
	MarkPointComponent,
	MarkLineComponent,
	MarkAreaComponent,
	LegendComponent,
	DataZoomComponent,
	VisualMapComponent,
	AriaComponent,
	DatasetComponent,
	TransformComponent,
	installUniversalTransition,
	installLabelLayout,
	SVGRenderer,
	CanvasRenderer
]);
