package awssim

import "time"

func (s *Sim) addRDSResources(rs *RegionState, res Resources, now time.Time) {}
