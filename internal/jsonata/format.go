package jsonata

func fnFormatNumber(ev *evaluator, args []any, ctx *callCtx) (any, error) {
	return Undefined, nil
}



