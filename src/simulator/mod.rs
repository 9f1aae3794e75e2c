//! A faithful simulation of the appliance backup API, both generations, many appliances
//! behind one listener. Used by tests, `vbdash demo`, `vbdash simulate` and benchmarks.
