package awssim

import "encoding/xml"

// listOf is an awsquery list whose items use a named element (RDS writes
// <DBInstances><DBInstance>..), written even when empty.
type listOf[T any] struct {
	elem  string
	items []T
}

func newList[T any](elem string) listOf[T] { return listOf[T]{elem: elem, items: []T{}} }

func (l *listOf[T]) add(v T) { l.items = append(l.items, v) }

func (l listOf[T]) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	for i := range l.items {
		if err := e.EncodeElement(l.items[i], xml.StartElement{Name: xml.Name{Local: l.elem}}); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}
