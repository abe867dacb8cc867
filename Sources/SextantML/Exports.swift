// The seeded generator and its distributions live in SextantBase so that the schedulers
// use them without the numeric core; code that trains models sees them through this module.
@_exported import SextantBase
