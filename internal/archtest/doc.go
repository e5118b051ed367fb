// Package archtest holds the rules of docs/architecture.md that the import
// linter (depguard) cannot see: which package calls which table's queries.
// It has tests only.
package archtest
