from ideaforge.cli import main

main()
