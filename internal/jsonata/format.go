package jsonata

func fnFormatNumber(ev *evaluator, args []any, ctx *callCtx) (any, error) {
	return Undefined, nil
}

func fnFormatInteger(ev *evaluator, args []any, ctx *callCtx) (any, error) {
	return Undefined, nil
}

func fnParseInteger(ev *evaluator, args []any, ctx *callCtx) (any, error) {
	return Undefined, nil
}

func registerDateFunctions() {}
