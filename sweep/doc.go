// Package sweep runs probesim over the Cartesian product of a
// configuration file's values and records one Row per configuration.
package sweep
