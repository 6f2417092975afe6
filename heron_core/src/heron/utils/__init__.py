"""Small helpers without a home of their own.

Type aliases, PNG figures, atomic and fsynced files, number checks, did-you-mean hints.
"""
