//go:build race

package jsonata

// raceEnabled reports that the race detector, which slows evaluation
// several times over, is on; suite time limits are scaled accordingly.
const raceEnabled = true
