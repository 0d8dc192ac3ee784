"""The course's autograder: student code runs in a bubblewrap sandbox (probe), the trusted grading
process compares what comes out with the solution's results and the course's property checks
(judge), and scores go to scores.csv, grades.csv, HTML feedback and nbgrader's gradebook.

Commands: `python -m autograder release|grade|check ...` (see autograder/README.md).
"""
