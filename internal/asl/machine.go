// Package asl parses, validates and interprets Amazon States Language, the
// language of AWS Step Functions, with Step Functions' semantics. It does no
// I/O: the interpreter is a step function (see Machine.Enter) that a driver
// (the in-memory runner or the durable engine) calls state by state.
package asl

import "time"

// Query languages a definition or state can use.
const (
	JSONPath = "JSONPath"
	JSONata  = "JSONata"
)

// State types.
const (
	TypePass     = "Pass"
	TypeTask     = "Task"
	TypeChoice   = "Choice"
	TypeWait     = "Wait"
	TypeSucceed  = "Succeed"
	TypeFail     = "Fail"
	TypeParallel = "Parallel"
	TypeMap      = "Map"
)

// Machine is a compiled, valid state machine: a whole definition, a
// Parallel branch or a Map item processor. It is immutable and safe for
// concurrent use.
type Machine struct {
	Comment        string
	StartAt        string
	QueryLanguage  string
	TimeoutSeconds int
	Version        string

	// States by name, and their names in definition order.
	States map[string]*State
	Order  []string

	// Definition is the decoded definition document this machine came from.
	Definition map[string]any
}

// State is one compiled state. Fields that a state type does not use are
// zero.
type State struct {
	Name          string
	Type          string
	Comment       string
	QueryLanguage string
	Next          string
	End           bool

	// JSONPath input and output processing.
	inputPath      pathField
	outputPath     pathField
	resultPath     pathField
	parameters     *template
	resultSelector *template
	result         any
	hasResult      bool

	// JSONata input and output processing.
	arguments jvalue
	output    jvalue

	// Variables: a JSONPath template or a JSONata value, by QueryLanguage.
	assign     *template
	assignJata jvalue

	// Task.
	Resource         string
	credentials      *template
	credentialsJata  jvalue
	timeoutSeconds   int
	timeoutPath      *ref
	timeoutJata      jvalue
	heartbeatSeconds int
	heartbeatPath    *ref
	heartbeatJata    jvalue
	retry            []*retrier
	catch            []*catcher

	// Choice.
	choices     []*choiceRule
	defaultNext string

	// Wait.
	waitSeconds   *float64
	waitTimestamp *time.Time
	secondsPath   *ref
	timestampPath *ref
	secondsJata   jvalue
	timestampJata jvalue

	// Fail.
	errorName string
	cause     string
	errorPath *dynString
	causePath *dynString
	errorJata jvalue
	causeJata jvalue

	// Parallel.
	Branches []*Machine

	// Map.
	Processor           *Machine
	itemsPath           pathField
	itemsJata           jvalue
	itemSelector        *template
	itemSelectorJata    jvalue
	maxConcurrency      int
	maxConcurrencyPath  *ref
	maxConcurrencyJata  jvalue
	toleratedCount      int
	hasToleratedCount   bool
	toleratedCountPath  *ref
	toleratedCountJata  jvalue
	toleratedPercent    float64
	toleratedPctPath    *ref
	toleratedPctJata    jvalue
	hasToleratedPercent bool
}

// pathField is an optional JSONPath field such as InputPath: absent (the
// default "$"), explicitly null, or a path.
type pathField struct {
	set  bool
	null bool
	ref  *ref
}

type retrier struct {
	errorEquals     []string
	intervalSeconds float64
	maxAttempts     int
	backoffRate     float64
	maxDelaySeconds float64
	jitterFull      bool
}

type catcher struct {
	errorEquals []string
	next        string
	resultPath  pathField
	assign      *template
	assignJata  jvalue
	output      jvalue
}

// dynString is a Fail state's ErrorPath or CausePath: a reference path or
// an intrinsic function call.
type dynString struct {
	field string
	node  tnode
}

// IsJSONata reports whether the state evaluates JSONata rather than JSONPath.
func (s *State) IsJSONata() bool { return s.QueryLanguage == JSONata }

// WaitsForTaskToken reports whether a Task state's resource ends in
// .waitForTaskToken: the execution parks until a token comes back.
func (s *State) WaitsForTaskToken() bool {
	return s.Type == TypeTask && hasSuffix(s.Resource, ".waitForTaskToken")
}

func hasSuffix(s, suffix string) bool {
	return len(s) >= len(suffix) && s[len(s)-len(suffix):] == suffix
}
