"""Small helpers without a home of their own: type aliases, PNG figures, atomic files, number checks."""
