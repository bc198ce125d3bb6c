from mailagent.cli import main

main()
