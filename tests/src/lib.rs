//! Helpers shared by logwire's integration tests: a parser for the readable
//! line format and a checker for multi-process log files.
