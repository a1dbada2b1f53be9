"""The industry template library (SPEC P4): versioned template definitions and their loader.

Not built yet: the onboarding capability starts it with the blank and fresh-produce templates."""
