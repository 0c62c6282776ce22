package awssim

import "time"

func (s *Sim) addELBResources(rs *RegionState, res Resources, now time.Time) error { return nil }
