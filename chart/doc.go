// Package chart draws minerscope's series as self-explanatory charts, SVG or PNG, with
// gonum.org/v1/plot.
//
// It is pure rendering: each builder (Hashrate, Difficulty, Epochs, Outflows, Reserve, Ribbons) takes plain
// values the caller has already computed (from analysis) and returns a *Chart, which Write renders to an
// io.Writer. The package reads no index and talks to no node.
//
// Every chart carries what a reader needs without the documentation: a title naming the quantity, the
// network and the block heights; axes with units (the hashrate's SI prefix is chosen from the data, and
// the axis turns logarithmic when the data spans more than a factor of 100); a UTC date axis whose tick
// format follows the range; a legend; and a footnote with the source and the definitions behind the
// figures. Markers and annotations that would overlap are thinned, never drawn on top of each other.
//
// Sizes are CSS pixels (96 per inch): a PNG has exactly that many pixels, an SVG declares the same size
// in points (pixels × 0.75).
// Text uses the Liberation fonts embedded in gonum.org/v1/plot, so the output does not depend on the
// fonts installed on the machine.
package chart
