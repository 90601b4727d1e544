package app

import (
	"time"

	"github.com/nodediag/nodediag/internal/cloud/eks"
)

// LogsSpec is a read of a cluster's control-plane logs as a caller writes it: the window as
// text (Start, End) or a length back from now (Last), in the face's own names.
type LogsSpec struct {
	Cluster, LogType, Filter string
	Start, End               string
	Last                     time.Duration
	Limit                    int
	Names                    Names // Start, End and Last are used
}

// Request checks the spec (a bad one is ErrBadRequest naming the face's parameter) and turns it
// into the EKS client's request: both faces call it before AWS is asked.
func (s LogsSpec) Request() (eks.LogsRequest, error) {
	n := s.Names
	req := eks.LogsRequest{ClusterName: s.Cluster, LogType: s.LogType, FilterPattern: s.Filter, Limit: s.Limit, Last: s.Last}
	if s.Cluster == "" {
		return req, badf("the cluster name is required: the EKS cluster whose control-plane logs to read")
	}
	var err error
	if s.Start != "" {
		if req.Start, err = ParseWhen(n.Start, s.Start); err != nil {
			return req, err
		}
	}
	if s.End != "" {
		if req.End, err = ParseWhen(n.End, s.End); err != nil {
			return req, err
		}
	}
	switch {
	case s.Last < 0:
		return req, badf("%s %s: want a positive length", n.Last, s.Last)
	case s.Limit < 0:
		return req, badf("the limit %d: want 1 to %d (default %d)", s.Limit, eks.MaxLogLimit, eks.DefaultLogLimit)
	case !req.Start.IsZero() && !req.End.IsZero() && !req.Start.Before(req.End):
		return req, badf("%s %s is not before %s %s", n.Start, s.Start, n.End, s.End)
	}
	return req, nil
}
