from guidekb.cli import main

main()
